package jsontree

import "testing"

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`{"a":[1,"x",true,null,{"b":2.50}]}`, `{"a":[1,"x",true,null,{"b":2.50}]}`, true},
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, true},
		{`{"a":2.5}`, `{"a":2.50}`, false}, // the decimal's precision differs
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":[1]}`, `{"a":[1,1]}`, false},
		{`{"a":"1"}`, `{"a":1}`, false},
		{`{"a":null}`, `{}`, false},
		{`{"a":{"b":true}}`, `{"a":{"b":false}}`, false},
	}
	for _, tt := range tests {
		a, err := Decode([]byte(tt.a))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Decode([]byte(tt.b))
		if err != nil {
			t.Fatal(err)
		}
		if got := Equal(a, b); got != tt.want {
			t.Errorf("Equal(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if Equal(map[string]any{"a": 480}, map[string]any{"a": 480}) {
		t.Error("an int, which Decode never builds, compared equal")
	}
}
