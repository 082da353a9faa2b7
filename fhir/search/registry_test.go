package search

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search/internal/gen/paramgen"
	"github.com/telederm/telederm/internal/sharedspec"
)

// TestGeneratedUpToDate regenerates registry_gen.go in memory and compares.
func TestGeneratedUpToDate(t *testing.T) {
	spec, err := os.ReadFile(sharedspec.Path("r4", "search-parameters.json"))
	if err != nil {
		t.Skipf("R4 search parameters not available (%v): this test needs ../shared/spec/r4/search-parameters.json beside the project", err)
	}
	want, err := paramgen.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("registry_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("registry_gen.go is stale: run `go generate ./fhir/search/`")
	}
}

func TestDefaultRegistry(t *testing.T) {
	r := Default()
	if err := r.Err(); err != nil {
		t.Fatalf("expressions that do not compile: %v", err)
	}
	if r != Default() {
		t.Error("Default() built twice")
	}
	// 1400 in the bundle, less the two example parameters that repeat a
	// core one on the same base (Resource _id, Condition subject).
	if n := len(generatedParams); n != 1398 {
		t.Errorf("%d generated parameters, want 1398", n)
	}
	types := fhir.ResourceTypes()
	pairs, indexed := 0, 0
	for _, rt := range types {
		for _, p := range r.ForType(rt) {
			pairs++
			if r.Expr(p) != nil {
				indexed++
			}
		}
		for _, code := range []string{"_id", "_lastUpdated", "_profile", "_tag", "_security", "_source"} {
			if p, ok := r.Lookup(rt, code); !ok || r.Expr(p) == nil {
				t.Errorf("%s has no indexable %s", rt, code)
			}
		}
		_, hasText := r.Lookup(rt, "_text")
		if want := rt != "Binary" && rt != "Bundle" && rt != "Parameters"; hasText != want {
			t.Errorf("%s: _text found = %v, want %v (DomainResource only)", rt, hasText, want)
		}
	}
	t.Logf("%d parameters; %d resource types; %d (type, code) pairs, %d with an expression", len(generatedParams), len(types), pairs, indexed)

	for rt, codes := range map[string][]string{
		"Patient":          {"birthdate", "name", "identifier", "general-practitioner", "family", "given", "phone", "email", "address-postalcode"},
		"ServiceRequest":   {"subject", "patient", "requester", "code", "authored", "status", "based-on"},
		"Observation":      {"code", "subject", "patient", "value-quantity", "code-value-quantity", "date"},
		"DiagnosticReport": {"based-on", "subject", "code", "conclusion"},
		"Media":            {"subject", "based-on", "created"},
		"Bundle":           {"identifier", "composition", "timestamp", "type"},
	} {
		for _, code := range codes {
			if _, ok := r.Lookup(rt, code); !ok {
				t.Errorf("%s has no parameter %s", rt, code)
			}
		}
	}
	if _, ok := r.Lookup("Patient", "nosuch"); ok {
		t.Error("Lookup found an unknown code")
	}
	if _, ok := r.Lookup("NoSuchType", "_id"); ok {
		t.Error("Lookup found a parameter of an unknown type")
	}
	for _, p := range []struct{ rt, code, url string }{
		{"ServiceRequest", "patient", "http://hl7.org/fhir/SearchParameter/clinical-patient"},
		{"Patient", "birthdate", "http://hl7.org/fhir/SearchParameter/individual-birthdate"},
		{"Patient", "_id", "http://hl7.org/fhir/SearchParameter/Resource-id"},
		{"Condition", "subject", "http://hl7.org/fhir/SearchParameter/Condition-subject"},
	} {
		if got, _ := r.Lookup(p.rt, p.code); got == nil || got.URL != p.url {
			t.Errorf("Lookup(%s, %s) = %v, want %s", p.rt, p.code, got, p.url)
		}
	}
}

func TestCompositeComponents(t *testing.T) {
	r := Default()
	p, ok := r.Lookup("Observation", "code-value-quantity")
	if !ok || p.Type != Composite {
		t.Fatalf("Observation code-value-quantity = %v", p)
	}
	if len(p.Components) != 2 {
		t.Fatalf("%d components, want 2", len(p.Components))
	}
	wantTypes := []Type{Token, Quantity}
	for i, c := range p.Components {
		cp, ok := r.ByURL(c.Definition)
		if !ok {
			t.Errorf("component %d: ByURL(%s) not found", i, c.Definition)
			continue
		}
		if cp.Type != wantTypes[i] {
			t.Errorf("component %d is %s, want %s", i, cp.Type, wantTypes[i])
		}
		if e := r.ComponentExpr(p, i); e == nil || e.String() != c.Expression {
			t.Errorf("ComponentExpr(%d) = %v, want %q", i, e, c.Expression)
		}
	}
	if r.ComponentExpr(p, 2) != nil || r.ComponentExpr(p, -1) != nil {
		t.Error("ComponentExpr out of range is not nil")
	}
	// Every component of every composite names a known parameter.
	for _, p := range generatedParams {
		for _, c := range p.Components {
			if _, ok := r.ByURL(c.Definition); !ok {
				t.Errorf("%s: component %s unknown", p.URL, c.Definition)
			}
		}
	}
}

func TestForType(t *testing.T) {
	r := Default()
	ps := r.ForType("Patient")
	if !slices.IsSortedFunc(ps, func(a, b *Param) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("ForType is not sorted by code")
	}
	codes := map[string]bool{}
	for _, p := range ps {
		if codes[p.Code] {
			t.Errorf("code %s listed twice", p.Code)
		}
		codes[p.Code] = true
		if got, _ := r.Lookup("Patient", p.Code); got != p {
			t.Errorf("ForType and Lookup disagree on %s", p.Code)
		}
	}
	for _, code := range []string{"_id", "_text", "birthdate"} {
		if !codes[code] {
			t.Errorf("ForType(Patient) lacks %s", code)
		}
	}
	ps[0] = nil // the caller's copy
	if r.ForType("Patient")[0] == nil {
		t.Error("ForType returned the registry's own slice")
	}
	if len(r.ForType("NoSuchType")) != 0 {
		t.Error("ForType of an unknown type is not empty")
	}
	common := r.ForType("Resource")
	if len(common) == 0 || len(r.ForType("DomainResource")) != len(common)+1 {
		t.Errorf("Resource has %d, DomainResource %d parameters", len(common), len(r.ForType("DomainResource")))
	}
}

func TestNewRegistry(t *testing.T) {
	params := []Param{
		{Code: "_id", URL: "u:id", Type: Token, Base: []string{"Resource"}, Expression: "Resource.id"},
		{Code: "_text", URL: "u:text", Type: String, Base: []string{"DomainResource"}},
		{Code: "x", URL: "u:x-common", Type: Token, Base: []string{"Resource"}, Expression: "Resource.meta.tag"},
		{Code: "x", URL: "u:x-patient", Type: Token, Base: []string{"Patient"}, Expression: "Patient.gender"},
		{Code: "y", URL: "u:y1", Type: Token, Base: []string{"Patient"}, Expression: "Patient.active"},
		{Code: "y", URL: "u:y2", Type: Token, Base: []string{"Patient"}, Expression: "Patient.gender"},
		{Code: "bad", URL: "u:bad", Type: Token, Base: []string{"Patient", "Skin"}, Expression: "Patient.nope("},
		{Code: "c", URL: "u:c", Type: Composite, Base: []string{"Observation"}, Expression: "Observation",
			Components: []Component{{Definition: "u:id", Expression: "id"}}},
	}
	r := NewRegistry(params)
	params[0].Code = "changed" // the registry keeps its own copy
	if p, ok := r.Lookup("Patient", "_id"); !ok || p.Code != "_id" {
		t.Errorf("Lookup(Patient, _id) = %v", p)
	}
	if p, _ := r.Lookup("Patient", "x"); p == nil || p.URL != "u:x-patient" {
		t.Errorf("type-specific x does not override the common one: %v", p)
	}
	if p, _ := r.Lookup("Observation", "x"); p == nil || p.URL != "u:x-common" {
		t.Errorf("Observation x = %v, want the common one", p)
	}
	if p, _ := r.Lookup("Patient", "y"); p == nil || p.URL != "u:y2" {
		t.Errorf("later y does not win: %v", p)
	}
	if _, ok := r.Lookup("Bundle", "_text"); ok {
		t.Error("Bundle has a DomainResource parameter")
	}
	if _, ok := r.Lookup("Skin", "bad"); !ok {
		t.Error("a base outside R4 is not indexed")
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "u:bad") {
		t.Errorf("Err() = %v, want the bad expression", r.Err())
	}
	bad, _ := r.ByURL("u:bad")
	if r.Expr(bad) != nil {
		t.Error("Expr of an expression that does not compile is not nil")
	}
	text, _ := r.ByURL("u:text")
	if r.Expr(text) != nil || r.Expr(nil) != nil {
		t.Error("Expr of no expression is not nil")
	}
	id, _ := r.ByURL("u:id")
	copyOf := *id
	if r.Expr(&copyOf) != r.Expr(id) {
		t.Error("a copy of a registry parameter is compiled again")
	}
	copyOf.Expression = "Resource.meta.versionId"
	if e := r.Expr(&copyOf); e == nil || e.String() != "Resource.meta.versionId" {
		t.Errorf("a changed copy gets %v", e)
	}
	c, _ := r.ByURL("u:c")
	if e := r.ComponentExpr(c, 0); e == nil || e.String() != "id" {
		t.Errorf("ComponentExpr = %v", e)
	}
}

// BenchmarkNewRegistry is the cost of building (and compiling) the R4
// registry, paid once at start-up.
func BenchmarkNewRegistry(b *testing.B) {
	for b.Loop() {
		NewRegistry(generatedParams)
	}
}
