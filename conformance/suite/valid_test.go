package suite

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// TestBuiltinScriptsAreValidR4 parses every embedded TestScript with the
// server's R4 validator: the suite's tests are FHIR resources other
// TestScript engines can run too.
func TestBuiltinScriptsAreValidR4(t *testing.T) {
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(builtinFS, "testscripts/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded scripts: %v", err)
	}
	tests, ids := 0, map[string]bool{}
	for _, name := range names {
		b, _ := fs.ReadFile(builtinFS, name)
		if _, o := codec.Parse(b); o != nil {
			out, _ := json.Marshal(o)
			t.Errorf("%s is not valid R4: %s", name, out)
		}
		ts, err := ParseTestScript(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if ids[ts.ID] {
			t.Errorf("%s: id %s used twice", name, ts.ID)
		}
		ids[ts.ID] = true
		tests += len(ts.Test)
	}
	t.Logf("%d TestScripts, %d tests", len(names), tests)
}

// TestTestReportIsValidR4 checks the --report output with the same
// validator, on a run with passes, failures and skips.
func TestTestReportIsValidR4(t *testing.T) {
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	base := startTelederm(t, breakRule(isTypeCreate, func(h http.Header) { h.Del("ETag") }))
	rep := Run(t.Context(), Options{Base: base}, scripts)
	b, err := rep.TestReportJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, o := codec.Parse(b); o != nil {
		out, _ := json.Marshal(o)
		t.Fatalf("TestReport Bundle is not valid R4: %s", out)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				ResourceType, Result string
				TestScript           struct{ Reference string }
			}
		}
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	if len(bundle.Entry) != len(scripts) {
		t.Fatalf("%d TestReports for %d scripts", len(bundle.Entry), len(scripts))
	}
	results := map[string]string{}
	for _, e := range bundle.Entry {
		results[e.Resource.TestScript.Reference] = e.Resource.Result
	}
	for ref, want := range map[string]string{
		"https://github.com/telederm/telederm/conformance/TestScript/create-read":  "fail",
		"https://github.com/telederm/telederm/conformance/TestScript/search":       "pass",
		"https://github.com/telederm/telederm/conformance/TestScript/smart":        "pending",
		"https://github.com/telederm/telederm/conformance/TestScript/capabilities": "pass",
	} {
		if results[ref] != want {
			t.Errorf("TestReport for %s: result %q, want %q", ref, results[ref], want)
		}
	}
}
