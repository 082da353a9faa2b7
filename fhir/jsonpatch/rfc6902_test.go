package jsonpatch

import "testing"

// TestRFC6902AppendixA runs the examples of RFC 6902 Appendix A.
func TestRFC6902AppendixA(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "A.1 adding an object member",
			doc:   `{"foo":"bar"}`,
			patch: `[{"op":"add","path":"/baz","value":"qux"}]`,
			want:  `{"baz":"qux","foo":"bar"}`,
		},
		{
			name:  "A.2 adding an array element",
			doc:   `{"foo":["bar","baz"]}`,
			patch: `[{"op":"add","path":"/foo/1","value":"qux"}]`,
			want:  `{"foo":["bar","qux","baz"]}`,
		},
		{
			name:  "A.3 removing an object member",
			doc:   `{"baz":"qux","foo":"bar"}`,
			patch: `[{"op":"remove","path":"/baz"}]`,
			want:  `{"foo":"bar"}`,
		},
		{
			name:  "A.4 removing an array element",
			doc:   `{"foo":["bar","qux","baz"]}`,
			patch: `[{"op":"remove","path":"/foo/1"}]`,
			want:  `{"foo":["bar","baz"]}`,
		},
		{
			name:  "A.5 replacing a value",
			doc:   `{"baz":"qux","foo":"bar"}`,
			patch: `[{"op":"replace","path":"/baz","value":"boo"}]`,
			want:  `{"baz":"boo","foo":"bar"}`,
		},
		{
			name:  "A.6 moving a value",
			doc:   `{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`,
			patch: `[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			want:  `{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`,
		},
		{
			name:  "A.7 moving an array element",
			doc:   `{"foo":["all","grass","cows","eat"]}`,
			patch: `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`,
			want:  `{"foo":["all","cows","eat","grass"]}`,
		},
		{
			name:  "A.8 testing a value: success",
			doc:   `{"baz":"qux","foo":["a",2,"c"]}`,
			patch: `[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`,
			want:  `{"baz":"qux","foo":["a",2,"c"]}`,
		},
		{
			name:    "A.9 testing a value: error",
			doc:     `{"baz":"qux"}`,
			patch:   `[{"op":"test","path":"/baz","value":"bar"}]`,
			wantErr: &Error{Op: 0, Path: "/baz", Reason: "test failed: value differs"},
		},
		{
			name:  "A.10 adding a nested member object",
			doc:   `{"foo":"bar"}`,
			patch: `[{"op":"add","path":"/child","value":{"grandchild":{}}}]`,
			want:  `{"foo":"bar","child":{"grandchild":{}}}`,
		},
		{
			name:  "A.11 ignoring unrecognized elements",
			doc:   `{"foo":"bar"}`,
			patch: `[{"op":"add","path":"/baz","value":"qux","xyz":123}]`,
			want:  `{"foo":"bar","baz":"qux"}`,
		},
		{
			name:    "A.12 adding to a nonexistent target",
			doc:     `{"foo":"bar"}`,
			patch:   `[{"op":"add","path":"/baz/bat","value":"qux"}]`,
			wantErr: &Error{Op: 0, Path: "/baz/bat", Reason: "path not found"},
		},
		{
			name:    "A.13 invalid JSON patch document",
			doc:     `{"foo":"bar"}`,
			patch:   `[{"op":"add","path":"/baz","value":"qux","op":"remove"}]`,
			wantErr: &Error{Op: 0, Reason: `duplicate member "op"`},
		},
		{
			name:  "A.14 ~ escape ordering",
			doc:   `{"/":9,"~1":10}`,
			patch: `[{"op":"test","path":"/~01","value":10}]`,
			want:  `{"/":9,"~1":10}`,
		},
		{
			name:    "A.15 comparing strings and numbers",
			doc:     `{"/":9,"~1":10}`,
			patch:   `[{"op":"test","path":"/~01","value":"10"}]`,
			wantErr: &Error{Op: 0, Path: "/~01", Reason: "test failed"},
		},
		{
			name:  "A.16 adding an array value",
			doc:   `{"foo":["bar"]}`,
			patch: `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`,
			want:  `{"foo":["bar",["abc","def"]]}`,
		},
	})
}
