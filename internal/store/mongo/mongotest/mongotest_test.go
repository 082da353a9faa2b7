package mongotest

import "testing"

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/t1"},
		{"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/t1"},
		{"mongodb://a:1,b:2/admin?replicaSet=rs0&w=majority", "mongodb://a:1,b:2/t1?replicaSet=rs0&w=majority"},
		{"mongodb+srv://user:pw@cluster.example.net/?retryWrites=true", "mongodb+srv://user:pw@cluster.example.net/t1?retryWrites=true"},
	} {
		got := withDatabase(tc.uri, "t1")
		if got != tc.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tc.uri, got, tc.want)
		}
		if db := databaseOf(got); db != "t1" {
			t.Errorf("databaseOf(%q) = %q, want t1", got, db)
		}
	}
}
