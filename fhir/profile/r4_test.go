package profile

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/sharedspec"
)

// r4Definitions reads the R4 StructureDefinitions whose type is in types
// (all resource definitions when types is nil), or skips t.
func r4Definitions(t testing.TB, types map[string]bool) [][]byte {
	t.Helper()
	path := sharedspec.Path("r4", "structure-definitions.ndjson.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("R4 StructureDefinitions not available (%v): this test needs ../shared/spec/r4/structure-definitions.ndjson.gz beside the project", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var out [][]byte
	for sc.Scan() {
		var head struct{ URL, Kind, Type, Derivation string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if head.URL != baseSD+head.Type || head.Kind != "resource" {
			continue
		}
		if types == nil || types[head.Type] {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// TestR4BaseProfilesOnExamples validates official R4 examples against the
// base definition of their type: the examples conform, so every issue is a
// false error of the validator.
func TestR4BaseProfilesOnExamples(t *testing.T) {
	types := map[string]bool{"Patient": true, "Observation": true, "ServiceRequest": true, "Media": true, "DiagnosticReport": true}
	defs := r4Definitions(t, types)
	if len(defs) != len(types) {
		t.Fatalf("found %d of the %d base definitions", len(defs), len(types))
	}
	s, err := Load(defs...)
	if err != nil {
		t.Fatalf("Load R4 base definitions: %v", err)
	}
	checked := map[string]int{}
	invalid := sharedspec.KnownInvalid(t)
	for _, ex := range sharedspec.Examples(t) {
		doc := decodeDoc(t, string(ex.Body))
		rt := str(doc["resourceType"])
		if !types[rt] {
			continue
		}
		checked[rt]++
		checkExample(t, s, ex.Name, baseSD+rt, doc, invalid)
	}
	for rt := range types {
		if checked[rt] == 0 {
			t.Errorf("no %s example was checked", rt)
		}
	}
	t.Logf("examples checked per type: %v", checked)
}

// TestR4BaseProfilesCatchErrors proves the base definitions are enforced,
// not just loaded.
func TestR4BaseProfilesCatchErrors(t *testing.T) {
	s, err := Load(r4Definitions(t, map[string]bool{"Patient": true, "Observation": true})...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, c := range []struct {
		url, doc string
		want     []string
	}{
		{baseSD + "Observation", `{"resourceType":"Observation","subject":{"reference":"Patient/1"}}`,
			[]string{"required Observation.code", "required Observation.status"}},
		{baseSD + "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/1"}}`,
			[]string{"structure Observation.subject"}},
		{baseSD + "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueReference":{"reference":"Patient/1"}}`,
			[]string{"structure Observation.valueReference"}},
		{baseSD + "Patient", `{"resourceType":"Patient","link":[{"type":"seealso"}]}`,
			[]string{"required Patient.link[0].other"}},
		// pat-1 (contact details or an organization) and ele-1 (children).
		{baseSD + "Patient", `{"resourceType":"Patient","contact":[{}]}`,
			[]string{"invariant Patient.contact[0]", "invariant Patient.contact[0]"}},
	} {
		got := describe(s.Validate(context.Background(), c.url, decodeDoc(t, c.doc)))
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s\n got: %q\nwant: %q", c.doc, got, c.want)
		}
	}
}

// TestR4AllResourceProfilesOnExamples is the wide version: every example
// against its base definition.
func TestR4AllResourceProfilesOnExamples(t *testing.T) {
	s, err := Load(r4Definitions(t, nil)...)
	if err != nil {
		t.Fatalf("Load R4 base definitions: %v", err)
	}
	n := 0
	invalid := sharedspec.KnownInvalid(t)
	for _, ex := range sharedspec.Examples(t) {
		doc := decodeDoc(t, string(ex.Body))
		url := baseSD + str(doc["resourceType"])
		if !s.Knows(url) {
			continue
		}
		n++
		checkExample(t, s, ex.Name, url, doc, invalid)
	}
	t.Logf("%d examples validated against their base definitions", n)
}

// checkExample validates one official example: a valid one must give no
// issue; one the project lists as breaking R4's rules must give issues at
// exactly the element listed.
func checkExample(t *testing.T, s *Set, name, url string, doc map[string]any, invalid map[string]sharedspec.InvalidExample) {
	t.Helper()
	issues := s.Validate(context.Background(), url, doc)
	bad, known := invalid[name]
	for _, is := range issues {
		// The listed element at fault, or the same element elsewhere
		// (Questionnaire/qs1 lacks linkId in items at every depth).
		if known && sameElement(strings.Join(is.Expression, ","), bad.Expression) {
			continue
		}
		t.Errorf("%s: false error: %s %s: %s", name, is.Code, strings.Join(is.Expression, ","), is.Diagnostics)
	}
	if known && !slices.ContainsFunc(issues, func(is fhir.Issue) bool { return strings.Join(is.Expression, ",") == bad.Expression }) {
		t.Errorf("%s: no issue at %s (%s): %+v", name, bad.Expression, bad.Reason, issues)
	}
}

var indexes = regexp.MustCompile(`\[[0-9]+\]`)

// sameElement compares two paths by resource type and element name, with
// any indexes and nesting between.
func sameElement(a, b string) bool {
	a, b = indexes.ReplaceAllString(a, ""), indexes.ReplaceAllString(b, "")
	first := func(p string) string { return p[:strings.IndexByte(p+".", '.')] }
	last := func(p string) string { return p[strings.LastIndexByte(p, '.')+1:] }
	return first(a) == first(b) && last(a) == last(b)
}
