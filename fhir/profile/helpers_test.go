package profile

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
)

const (
	patientURL     = "https://example.test/StructureDefinition/test-patient"
	scoreURL       = "https://example.test/StructureDefinition/test-score"
	complexExtURL  = "https://example.test/StructureDefinition/complex-ext"
	testCodes      = "https://example.test/CodeSystem/test-codes"
	testCodesVS    = "https://example.test/ValueSet/test-codes"
	nhsNumberSytem = "https://fhir.nhs.uk/Id/nhs-number"
)

// testdataFiles reads every testdata/*.json.
func testdataFiles(t testing.TB) [][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func loadTestSet(t testing.TB) *Set {
	t.Helper()
	s, err := Load(testdataFiles(t)...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

// decodeDoc decodes JSON the way the server does (json.Number numbers).
func decodeDoc(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode: %v\n%s", err, s)
	}
	return m
}

// describe renders issues as sorted "code expression" lines.
func describe(issues []fhir.Issue) []string {
	out := make([]string, 0, len(issues))
	for _, is := range issues {
		out = append(out, is.Code+" "+strings.Join(is.Expression, ","))
	}
	sort.Strings(out)
	return out
}

// validCase is one document variant and the issues it must give, as
// "code expression" lines (none for a conforming document).
type validCase struct {
	name string
	edit func(m map[string]any)
	want []string
}

func runCases(t *testing.T, s *Set, url, base string, cases []validCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := decodeDoc(t, base)
			if c.edit != nil {
				c.edit(doc)
			}
			issues := s.Validate(context.Background(), url, doc)
			got := describe(issues)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("issues:\n got: %q\nwant: %q\nfull: %+v", got, want, issues)
			}
			for _, is := range issues {
				if is.Severity != fhir.SeverityError || is.Diagnostics == "" {
					t.Errorf("issue %+v: want severity error and diagnostics", is)
				}
			}
		})
	}
}

// obj and arr read into a decoded document for edits.
func obj(v any) map[string]any { return v.(map[string]any) }
func arr(v any) []any          { return v.([]any) }

// js decodes a JSON literal written in a test (it panics on a typo).
func js(s string) any {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		panic("bad JSON in test: " + err.Error() + ": " + s)
	}
	return v
}
