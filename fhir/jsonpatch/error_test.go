package jsonpatch

import (
	"errors"
	"strings"
	"testing"
)

func TestOperationErrors(t *testing.T) {
	doc := `{"a":{"b":[1,2]},"s":"x"}`
	runCases(t, []patchCase{
		// Malformed operations: found before anything is applied.
		{name: "unknown op", doc: doc, patch: `[{"op":"foo","path":"/a"}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: `unknown op "foo"`}},
		{name: "op is case sensitive", doc: doc, patch: `[{"op":"Add","path":"/a","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: `unknown op "Add"`}},
		{name: "missing op", doc: doc, patch: `[{"op":"test","path":"/s","value":"x"},{"path":"/a"}]`,
			wantErr: &Error{Op: 1, Path: "/a", Reason: `missing "op"`}},
		{name: "op not a string", doc: doc, patch: `[{"op":1,"path":"/a"}]`,
			wantErr: &Error{Op: 0, Path: "/a", Reason: `"op" must be a string`}},
		{name: "missing path", doc: doc, patch: `[{"op":"remove"}]`,
			wantErr: &Error{Op: 0, Reason: `missing "path"`}},
		{name: "path not a string", doc: doc, patch: `[{"op":"remove","path":null}]`,
			wantErr: &Error{Op: 0, Reason: `"path" must be a string`}},
		{name: "missing value for add", doc: doc, patch: `[{"op":"add","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "/x", Reason: `missing "value"`}},
		{name: "missing value for replace", doc: doc, patch: `[{"op":"replace","path":"/s"}]`,
			wantErr: &Error{Op: 0, Path: "/s", Reason: `missing "value"`}},
		{name: "missing value for test", doc: doc, patch: `[{"op":"test","path":"/s"}]`,
			wantErr: &Error{Op: 0, Path: "/s", Reason: `missing "value"`}},
		{name: "missing from for move", doc: doc, patch: `[{"op":"move","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "/x", Reason: `missing "from"`}},
		{name: "missing from for copy", doc: doc, patch: `[{"op":"copy","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "/x", Reason: `missing "from"`}},
		{name: "pointer without leading slash", doc: doc, patch: `[{"op":"remove","path":"a"}]`,
			wantErr: &Error{Op: 0, Path: "a", Reason: "invalid JSON pointer"}},
		{name: "bad escape", doc: doc, patch: `[{"op":"remove","path":"/a~2"}]`,
			wantErr: &Error{Op: 0, Path: "/a~2", Reason: "invalid JSON pointer"}},
		{name: "trailing tilde", doc: doc, patch: `[{"op":"remove","path":"/a~"}]`,
			wantErr: &Error{Op: 0, Path: "/a~", Reason: "invalid JSON pointer"}},
		{name: "bad from pointer", doc: doc, patch: `[{"op":"copy","from":"a","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "a", Reason: "from: invalid JSON pointer"}},
		{name: "move into own child", doc: doc, patch: `[{"op":"move","from":"/a","path":"/a/b/0"}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/0", Reason: "into one of its own children"}},
		{name: "move root into child", doc: doc, patch: `[{"op":"move","from":"","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "/x", Reason: "into one of its own children"}},
		{name: "malformed op found before an earlier failure", doc: doc,
			patch:   `[{"op":"remove","path":"/nope"},{"op":"bogus","path":"/a"}]`,
			wantErr: &Error{Op: 1, Path: "/a", Reason: `unknown op "bogus"`}},

		// Operations that do not fit the document.
		{name: "remove missing member", doc: doc, patch: `[{"op":"remove","path":"/nope"}]`,
			wantErr: &Error{Op: 0, Path: "/nope", Reason: "path not found"}},
		{name: "replace missing member", doc: doc, patch: `[{"op":"replace","path":"/nope","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/nope", Reason: "path not found"}},
		{name: "remove index out of range", doc: doc, patch: `[{"op":"remove","path":"/a/b/2"}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/2", Reason: "out of range"}},
		{name: "add index beyond length", doc: doc, patch: `[{"op":"add","path":"/a/b/3","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/3", Reason: "out of range"}},
		{name: "leading zero index", doc: doc, patch: `[{"op":"add","path":"/a/b/01","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/01", Reason: "not an array index"}},
		{name: "negative index", doc: doc, patch: `[{"op":"remove","path":"/a/b/-1"}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/-1", Reason: "not an array index"}},
		{name: "huge index", doc: doc, patch: `[{"op":"remove","path":"/a/b/99999999999999999999999"}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/99999999999999999999999", Reason: "out of range"}},
		{name: "remove -", doc: doc, patch: `[{"op":"remove","path":"/a/b/-"}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/-", Reason: "path not found"}},
		{name: "replace -", doc: doc, patch: `[{"op":"replace","path":"/a/b/-","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/-", Reason: "path not found"}},
		{name: "test -", doc: doc, patch: `[{"op":"test","path":"/a/b/-","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/-", Reason: "path not found"}},
		{name: "descend into a string", doc: doc, patch: `[{"op":"add","path":"/s/x","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/s/x", Reason: "cannot descend into a string"}},
		{name: "intermediate member missing", doc: doc, patch: `[{"op":"test","path":"/a/x/y","value":1}]`,
			wantErr: &Error{Op: 0, Path: "/a/x/y", Reason: "path not found"}},
		{name: "remove whole document", doc: doc, patch: `[{"op":"remove","path":""}]`,
			wantErr: &Error{Op: 0, Path: "", Reason: "cannot remove the whole document"}},
		{name: "move from missing", doc: doc, patch: `[{"op":"move","from":"/nope","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "/nope", Reason: "from: path not found"}},
		{name: "move onto itself from missing", doc: doc, patch: `[{"op":"move","from":"/nope","path":"/nope"}]`,
			wantErr: &Error{Op: 0, Path: "/nope", Reason: "from: path not found"}},
		{name: "move to missing parent", doc: doc, patch: `[{"op":"move","from":"/s","path":"/x/y"}]`,
			wantErr: &Error{Op: 0, Path: "/x/y", Reason: "path not found"}},
		{name: "copy from missing", doc: doc, patch: `[{"op":"copy","from":"/a/b/5","path":"/x"}]`,
			wantErr: &Error{Op: 0, Path: "/a/b/5", Reason: "from: path not found"}},
		{name: "failure after successful ops", doc: doc,
			patch:   `[{"op":"add","path":"/n","value":1},{"op":"remove","path":"/s"},{"op":"test","path":"/s","value":"x"}]`,
			wantErr: &Error{Op: 2, Path: "/s", Reason: "path not found"}},
	})
}

func TestMalformedPatch(t *testing.T) {
	doc := `{"a":1}`
	runCases(t, []patchCase{
		{name: "not JSON", doc: doc, patch: `[{"op":`,
			wantErr: &Error{Op: -1, Reason: "patch is not valid JSON"}},
		{name: "empty", doc: doc, patch: ``,
			wantErr: &Error{Op: -1, Reason: "patch is not valid JSON"}},
		{name: "single object", doc: doc, patch: `{"op":"remove","path":"/a"}`,
			wantErr: &Error{Op: -1, Reason: "patch must be a JSON array of operations"}},
		{name: "null", doc: doc, patch: `null`,
			wantErr: &Error{Op: -1, Reason: "patch must be a JSON array of operations"}},
		{name: "element not an object", doc: doc, patch: `[{"op":"test","path":"/a","value":1},"remove"]`,
			wantErr: &Error{Op: -1, Reason: "patch element 1 is a JSON string"}},
		{name: "trailing comma", doc: doc, patch: `[{"op":"remove","path":"/a"},]`,
			wantErr: &Error{Op: -1, Reason: "patch is not valid JSON"}},
		{name: "trailing data", doc: doc, patch: `[] []`,
			wantErr: &Error{Op: -1, Reason: "patch is not valid JSON"}},
		{name: "duplicate member deep in a value", doc: doc,
			patch:   `[{"op":"test","path":"/a","value":1},{"op":"add","path":"/b","value":{"x":1,"x":2}}]`,
			wantErr: &Error{Op: 1, Reason: `duplicate member "x"`}},
		{name: "document not JSON", doc: `{"a":`, patch: `[]`,
			wantErr: &Error{Op: -1, Reason: "document is not valid JSON"}},
		{name: "document with duplicate member", doc: `{"a":1,"a":2}`, patch: `[]`,
			wantErr: &Error{Op: -1, Reason: `document has a duplicate member "a"`}},
	})
}

func TestNestingLimit(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	_, err := Apply([]byte(deep), []byte(`[]`))
	checkError(t, err, &Error{Op: -1, Reason: "nesting too deep"})
	_, err = Apply([]byte(`{}`), []byte(`[{"op":"add","path":"/a","value":`+deep+`}]`))
	checkError(t, err, &Error{Op: -1, Reason: "nesting too deep"})
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := Apply([]byte(ok), []byte(`[]`)); err != nil {
		t.Errorf("depth %d: %v", maxDepth, err)
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Apply([]byte(`{}`), []byte(`[{"op":"remove","path":"/name/0"}]`))
	want := `jsonpatch: operation 0 at "/name/0": path not found`
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is not *Error", err)
	}
	_, err = Apply([]byte(`{}`), []byte(`{}`))
	if want := "jsonpatch: patch must be a JSON array of operations"; err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %s", err, want)
	}
}

func TestExpression(t *testing.T) {
	for _, tc := range []struct {
		path, resourceType, want string
	}{
		{"/name/0/given/1", "Patient", "Patient.name[0].given[1]"},
		{"/birthDate", "Patient", "Patient.birthDate"},
		{"", "Patient", "Patient"},
		{"/name/-", "Patient", "Patient.name"},
		{"/extension/0/valueString", "Observation", "Observation.extension[0].valueString"},
		{"/a~1b/c.d", "Basic", "Basic.`a/b`.`c.d`"},
		{"/x`y", "Basic", "Basic.`x\\`y`"},
		{"/01", "Basic", "Basic.`01`"},
		{"/name/0", "", "name[0]"},
		{"/0/a", "", "[0].a"},
		{"not a pointer", "Patient", "Patient"},
	} {
		e := &Error{Path: tc.path}
		if got := e.Expression(tc.resourceType); got != tc.want {
			t.Errorf("Expression(%q, %q) = %q, want %q", tc.path, tc.resourceType, got, tc.want)
		}
	}
}
