package jsonpatch

import "testing"

func TestAdd(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "append with -",
			doc:   `{"name":[{"given":["Ann"]}]}`,
			patch: `[{"op":"add","path":"/name/0/given/-","value":"Marie"}]`,
			want:  `{"name":[{"given":["Ann","Marie"]}]}`,
		},
		{
			name:  "insert at 0 shifts elements",
			doc:   `{"a":[1,2,3]}`,
			patch: `[{"op":"add","path":"/a/0","value":0}]`,
			want:  `{"a":[0,1,2,3]}`,
		},
		{
			name:  "insert at length appends",
			doc:   `{"a":[1,2,3]}`,
			patch: `[{"op":"add","path":"/a/3","value":4}]`,
			want:  `{"a":[1,2,3,4]}`,
		},
		{
			name:  "into empty array",
			doc:   `{"a":[]}`,
			patch: `[{"op":"add","path":"/a/0","value":{"x":null}}]`,
			want:  `{"a":[{"x":null}]}`,
		},
		{
			name:  "existing member is replaced",
			doc:   `{"gender":"male"}`,
			patch: `[{"op":"add","path":"/gender","value":"female"}]`,
			want:  `{"gender":"female"}`,
		},
		{
			name:  "null value",
			doc:   `{}`,
			patch: `[{"op":"add","path":"/x","value":null}]`,
			want:  `{"x":null}`,
		},
		{
			name:  "- is a member name in an object",
			doc:   `{}`,
			patch: `[{"op":"add","path":"/-","value":1}]`,
			want:  `{"-":1}`,
		},
		{
			name:  "empty member name",
			doc:   `{}`,
			patch: `[{"op":"add","path":"/","value":1}]`,
			want:  `{"":1}`,
		},
		{
			name:  "whole document",
			doc:   `{"a":1}`,
			patch: `[{"op":"add","path":"","value":{"b":2}}]`,
			want:  `{"b":2}`,
		},
		{
			name:  "escaped names",
			doc:   `{}`,
			patch: `[{"op":"add","path":"/a~1b","value":1},{"op":"add","path":"/m~0n","value":2}]`,
			want:  `{"a/b":1,"m~n":2}`,
		},
	})
}

func TestRemove(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "last array element",
			doc:   `{"a":[1,2,3]}`,
			patch: `[{"op":"remove","path":"/a/2"}]`,
			want:  `{"a":[1,2]}`,
		},
		{
			name:  "nested member",
			doc:   `{"a":{"b":{"c":1,"d":2}}}`,
			patch: `[{"op":"remove","path":"/a/b/c"}]`,
			want:  `{"a":{"b":{"d":2}}}`,
		},
		{
			name:  "value is ignored",
			doc:   `{"a":1,"b":2}`,
			patch: `[{"op":"remove","path":"/a","value":"whatever"}]`,
			want:  `{"b":2}`,
		},
		{
			name:  "member whose value is null",
			doc:   `{"a":null}`,
			patch: `[{"op":"remove","path":"/a"}]`,
			want:  `{}`,
		},
	})
}

func TestReplace(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "array element",
			doc:   `{"a":[1,2,3]}`,
			patch: `[{"op":"replace","path":"/a/1","value":"two"}]`,
			want:  `{"a":[1,"two",3]}`,
		},
		{
			name:  "with a container",
			doc:   `{"a":"x"}`,
			patch: `[{"op":"replace","path":"/a","value":{"b":[true,false]}}]`,
			want:  `{"a":{"b":[true,false]}}`,
		},
		{
			name:  "whole document",
			doc:   `{"a":1}`,
			patch: `[{"op":"replace","path":"","value":[1]}]`,
			want:  `[1]`,
		},
	})
}

func TestMove(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "onto itself is a no-op",
			doc:   `{"a":{"b":1}}`,
			patch: `[{"op":"move","from":"/a","path":"/a"}]`,
			want:  `{"a":{"b":1}}`,
		},
		{
			name:  "child up over its parent",
			doc:   `{"a":{"b":{"c":1}}}`,
			patch: `[{"op":"move","from":"/a/b","path":"/a"}]`,
			want:  `{"a":{"c":1}}`,
		},
		{
			name:  "between arrays",
			doc:   `{"a":[1,2],"b":[3]}`,
			patch: `[{"op":"move","from":"/a/0","path":"/b/-"}]`,
			want:  `{"a":[2],"b":[3,1]}`,
		},
		{
			name:  "array element backwards",
			doc:   `{"a":[1,2,3,4]}`,
			patch: `[{"op":"move","from":"/a/3","path":"/a/0"}]`,
			want:  `{"a":[4,1,2,3]}`,
		},
		{
			name:  "to a sibling whose name extends the source",
			doc:   `{"a":1}`,
			patch: `[{"op":"move","from":"/a","path":"/ab"}]`,
			want:  `{"ab":1}`,
		},
	})
}

func TestCopy(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "member",
			doc:   `{"a":{"b":1}}`,
			patch: `[{"op":"copy","from":"/a","path":"/c"}]`,
			want:  `{"a":{"b":1},"c":{"b":1}}`,
		},
		{
			name:  "into its own child",
			doc:   `{"a":{"b":1}}`,
			patch: `[{"op":"copy","from":"/a","path":"/a/c"}]`,
			want:  `{"a":{"b":1,"c":{"b":1}}}`,
		},
		{
			// The copy must be deep: changing it leaves the source alone.
			name:  "is independent of its source",
			doc:   `{"a":{"b":[1]}}`,
			patch: `[{"op":"copy","from":"/a","path":"/c"},{"op":"add","path":"/c/b/-","value":2}]`,
			want:  `{"a":{"b":[1]},"c":{"b":[1,2]}}`,
		},
		{
			name:  "array element",
			doc:   `{"a":[1,2]}`,
			patch: `[{"op":"copy","from":"/a/1","path":"/a/0"}]`,
			want:  `{"a":[2,1,2]}`,
		},
		{
			name:  "whole document into itself",
			doc:   `{"a":1}`,
			patch: `[{"op":"copy","from":"","path":"/self"}]`,
			want:  `{"a":1,"self":{"a":1}}`,
		},
	})
}

func TestTest(t *testing.T) {
	runCases(t, []patchCase{
		{
			name:  "object key order is irrelevant",
			doc:   `{"a":{"x":1,"y":[true,null]}}`,
			patch: `[{"op":"test","path":"/a","value":{"y":[true,null],"x":1}}]`,
			want:  `{"a":{"x":1,"y":[true,null]}}`,
		},
		{
			name:  "string escapes are decoded before comparing",
			doc:   `{"a":"\u0041\/"}`,
			patch: `[{"op":"test","path":"/a","value":"A/"}]`,
			want:  `{"a":"A/"}`,
		},
		{
			name:  "null",
			doc:   `{"a":null}`,
			patch: `[{"op":"test","path":"/a","value":null}]`,
			want:  `{"a":null}`,
		},
		{
			name:  "whole document",
			doc:   `[1,"2"]`,
			patch: `[{"op":"test","path":"","value":[1,"2"]}]`,
			want:  `[1,"2"]`,
		},
		{
			name:    "array order matters",
			doc:     `{"a":[1,2]}`,
			patch:   `[{"op":"test","path":"/a","value":[2,1]}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: "test failed: value differs"},
		},
		{
			name:    "extra member differs",
			doc:     `{"a":{"x":1}}`,
			patch:   `[{"op":"test","path":"/a","value":{"x":1,"y":2}}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: "test failed"},
		},
		{
			name:    "null is not absent",
			doc:     `{"a":{}}`,
			patch:   `[{"op":"test","path":"/a/b","value":null}]`,
			wantErr: &Error{Op: 0, Path: "/a/b", Reason: "path not found"},
		},
		{
			name:    "false is not null",
			doc:     `{"a":false}`,
			patch:   `[{"op":"test","path":"/a","value":null}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: "test failed"},
		},
		{
			name:  "guards a later change",
			doc:   `{"meta":{"versionId":"3"},"active":true}`,
			patch: `[{"op":"test","path":"/meta/versionId","value":"3"},{"op":"replace","path":"/active","value":false}]`,
			want:  `{"meta":{"versionId":"3"},"active":false}`,
		},
	})
}

// TestRFC6901Pointers resolves the RFC 6901 section 5 examples with test.
func TestRFC6901Pointers(t *testing.T) {
	doc := `{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8}`
	for _, tc := range []struct{ ptr, value string }{
		{``, doc},
		{`/foo`, `["bar","baz"]`},
		{`/foo/0`, `"bar"`},
		{`/`, `0`},
		{`/a~1b`, `1`},
		{`/c%d`, `2`},
		{`/e^f`, `3`},
		{`/g|h`, `4`},
		{`/i\\j`, `5`},
		{`/k\"l`, `6`},
		{`/ `, `7`},
		{`/m~0n`, `8`},
	} {
		patch := `[{"op":"test","path":"` + tc.ptr + `","value":` + tc.value + `}]`
		if _, err := Apply([]byte(doc), []byte(patch)); err != nil {
			t.Errorf("pointer %s: %v", tc.ptr, err)
		}
	}
}

func TestAppliesInOrder(t *testing.T) {
	runCases(t, []patchCase{
		{
			name: "each op sees the previous ones",
			doc:  `{}`,
			patch: `[
				{"op":"add","path":"/name","value":[]},
				{"op":"add","path":"/name/-","value":{"family":"Doe"}},
				{"op":"add","path":"/name/0/given","value":["Jane"]},
				{"op":"copy","from":"/name/0","path":"/name/-"},
				{"op":"replace","path":"/name/1/family","value":"Roe"},
				{"op":"move","from":"/name/1","path":"/name/0"},
				{"op":"test","path":"/name","value":[{"family":"Roe","given":["Jane"]},{"family":"Doe","given":["Jane"]}]},
				{"op":"remove","path":"/name/1/given"}
			]`,
			want: `{"name":[{"family":"Roe","given":["Jane"]},{"family":"Doe"}]}`,
		},
		{
			name:  "empty patch",
			doc:   `{"a":1}`,
			patch: `[]`,
			want:  `{"a":1}`,
		},
	})
}

// TestPreservesLayout checks member order and text survive byte for byte.
func TestPreservesLayout(t *testing.T) {
	doc := `{"resourceType":"Patient","id":"p1","text":{"div":"<div>a & b</div>"},"name":[{"given":["Zoë","\u2028"]}],"z":"\u0001\"\\"}`
	patch := `[{"op":"add","path":"/birthDate","value":"1970-01-01"},{"op":"replace","path":"/id","value":"p2"}]`
	want := `{"resourceType":"Patient","id":"p2","text":{"div":"<div>a & b</div>"},"name":[{"given":["Zoë","\u2028"]}],"z":"\u0001\"\\","birthDate":"1970-01-01"}`
	got, err := Apply([]byte(doc), []byte(patch))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
