package jsonpatch

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzApply checks Apply never panics, never changes its input, and on
// success returns valid JSON that re-encodes to itself.
func FuzzApply(f *testing.F) {
	seeds := [][2]string{
		{`{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`},
		{`{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`},
		{`{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`},
		{`{"a":{"b":[1.10]}}`, `[{"op":"copy","from":"/a","path":"/a/c"},{"op":"test","path":"/a/b/0","value":1.10}]`},
		{`{"/":9,"~1":10}`, `[{"op":"test","path":"/~01","value":10}]`},
		{`[1,2]`, `[{"op":"remove","path":"/0"},{"op":"replace","path":"","value":null}]`},
		{`{"a":1}`, `[{"op":"move","from":"","path":"/a"}]`},
		{`{"a":"\u2028<>"}`, `[{"op":"add","path":"/a~1b","value":"\ud800"}]`},
		{`{}`, `[{"op":"add","path":"/x","value":{"x":1,"x":2}}]`},
		{`{"a":[]}`, `[{"op":"add","path":"/a/-","value":[[[]]]}]`},
	}
	for _, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, doc, patch []byte) {
		docCopy, patchCopy := bytes.Clone(doc), bytes.Clone(patch)
		got, err := Apply(doc, patch)
		if !bytes.Equal(doc, docCopy) || !bytes.Equal(patch, patchCopy) {
			t.Fatal("Apply modified its input")
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			return
		}
		if !json.Valid(got) {
			t.Fatalf("result is not valid JSON: %q", got)
		}
		again, err := Apply(got, []byte(`[]`))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("result does not re-encode to itself: %q -> %q, %v", got, again, err)
		}
	})
}
