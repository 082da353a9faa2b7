package api

import "testing"

func TestBundleKind(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"resourceType":"Bundle","type":"transaction","entry":[]}`, "transaction"},
		{`{"resourceType":"Bundle","type":"batch"}`, "batch"},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","type":"x"}}],"type":"batch"}`, "batch"},
		{`{"resourceType":"Bundle","type":"collection"}`, ""},
		{`{"resourceType":"Bundle","type":7}`, ""},
		{`{"resourceType":"Bundle"}`, ""},
		{`[1,2]`, ""},
		{`{"resourceType":"Bundle","entry":[`, ""},
		{``, ""},
	} {
		if got := bundleKind([]byte(tc.body)); got != tc.want {
			t.Errorf("bundleKind(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}
