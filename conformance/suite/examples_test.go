package suite

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// exampleErrors are the official examples' expectations that R4 itself
// contradicts: the test requires them to fail, and nothing else.
var exampleErrors = map[string]string{
	"testscript-example-readtest/R004": `expects 400 for Patient/ID-may-not-contain-CAPITALS, but R4 ids are [A-Za-z0-9\-\.]{1,64}: capitals are allowed, so the id is valid and unknown and 404 is the right answer`,
}

// TestOfficialTestScriptExamples runs the six TestScript examples of the
// R4 specification against a fresh Telederm. Their fixtures reference
// other official examples (Patient/example, Patient/pat1), which the
// fixture loader finds among the examples; the readtest and multisystem
// scripts read a "known" Patient/example, so the server is given it first.
func TestOfficialTestScriptExamples(t *testing.T) {
	examples := sharedspec.Examples(t)
	byName := map[string][]byte{}
	var scripts []Script
	for _, e := range examples {
		byName[e.Name] = e.Body
	}
	loader := func(ref string) ([]byte, error) {
		if b, ok := byName[ref]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s is not among the official R4 examples", ref)
	}
	for _, e := range examples {
		if !strings.HasPrefix(e.Name, "TestScript/") {
			continue
		}
		ts, err := ParseTestScript(e.Body)
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		scripts = append(scripts, Script{File: "examples.ndjson.gz#" + e.Name, TestScript: ts, Fixtures: loader})
	}
	if len(scripts) != 6 {
		t.Fatalf("found %d TestScript examples, want 6", len(scripts))
	}
	sort.Slice(scripts, func(i, j int) bool { return scripts[i].TestScript.ID < scripts[j].TestScript.ID })

	base := startTelederm(t, nil)
	req, _ := http.NewRequest(http.MethodPut, base+"/Patient/example", bytes.NewReader(byName["Patient/example"]))
	req.Header.Set("Content-Type", fhirJSON)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("load Patient/example: %d", resp.StatusCode)
	}

	// testscript-example-search has two variables with only a hint (the
	// integrator's known family and given name); they get the names of
	// Patient/example, which the script creates.
	rep := Run(t.Context(), Options{Base: base, Vars: map[string]string{
		"PatientSearchFamilyName": "Chalmers", "PatientSearchGivenName": "Peter",
	}}, scripts)
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s", table.String())

	seen := map[string]bool{}
	for _, s := range rep.Scripts {
		if s.Setup != nil && s.Setup.Status != Pass {
			t.Errorf("%s setup: %s: %s", s.ID, s.Setup.Status, s.Setup.Message)
		}
		for _, tr := range s.Tests {
			key := s.ID + "/" + tr.ID
			seen[key] = true
			t.Logf("%-45s %-4s %s %s", key, tr.Status, tr.Message, strings.Join(tr.Notes, "; "))
			known, isKnown := exampleErrors[key]
			switch {
			case tr.Status == Fail && isKnown:
				t.Logf("  expected failure: the example %s", known)
			case tr.Status == Fail:
				t.Errorf("%s failed: %s", key, tr.Message)
			case isKnown:
				t.Errorf("%s: %s, but the example is known to be wrong (%s)", key, tr.Status, known)
			case tr.Status == Skip && tr.Message == "":
				t.Errorf("%s skipped without a reason", key)
			}
		}
	}
	for key := range exampleErrors {
		if !seen[key] {
			t.Errorf("%s did not run", key)
		}
	}
}
