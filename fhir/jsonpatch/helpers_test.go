package jsonpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// patchCase is one row of the table-driven tests: either want (the patched
// document, compared as JSON) or wantErr is set.
type patchCase struct {
	name    string
	doc     string
	patch   string
	want    string
	wantErr *Error // Reason matches as a substring
}

func runCases(t *testing.T, cases []patchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(tc.doc)
			got, err := Apply(doc, []byte(tc.patch))
			if string(doc) != tc.doc {
				t.Fatalf("Apply modified its input document")
			}
			if tc.wantErr != nil {
				checkError(t, err, tc.wantErr)
				if got != nil {
					t.Errorf("got result %s alongside an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			sameJSON(t, got, tc.want)
		})
	}
}

func checkError(t *testing.T, err error, want *Error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error", err, err)
	}
	if e.Op != want.Op || e.Path != want.Path || !strings.Contains(e.Reason, want.Reason) {
		t.Errorf("error = {Op:%d Path:%q Reason:%q}, want {Op:%d Path:%q Reason containing %q}",
			e.Op, e.Path, e.Reason, want.Op, want.Path, want.Reason)
	}
}

// sameJSON compares JSON semantically, with numbers by their exact text.
func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	g, err := decodeStd([]byte(got))
	if err != nil {
		t.Fatalf("result is not valid JSON: %v\n%s", err, got)
	}
	w, err := decodeStd([]byte(want))
	if err != nil {
		t.Fatalf("bad test: want is not valid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// decodeStd decodes with encoding/json, independently of the package's own
// decoder.
func decodeStd(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
