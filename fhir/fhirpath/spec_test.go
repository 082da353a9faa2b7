package fhirpath

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// specParam is the part of an R4 SearchParameter these tests need.
type specParam struct {
	URL        string
	Code       string
	Base       []string
	Type       string
	Expression string
	Component  []struct{ Definition, Expression string }
}

// specParams reads ../shared/spec/r4/search-parameters.json, or skips t.
func specParams(t testing.TB) []specParam {
	t.Helper()
	path := sharedspec.Path("r4", "search-parameters.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("R4 search parameters not available (%v): this test needs ../shared/spec/r4/search-parameters.json beside the project", err)
	}
	var bundle struct {
		Entry []struct{ Resource specParam }
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]specParam, len(bundle.Entry))
	for i, e := range bundle.Entry {
		out[i] = e.Resource
	}
	return out
}

// TestSpecExpressionsCompile proves the subset covers every expression the
// R4 search parameters use, component expressions included.
func TestSpecExpressionsCompile(t *testing.T) {
	params := specParams(t)
	exprs, comps := 0, 0
	for _, p := range params {
		if p.Expression != "" {
			exprs++
			if _, err := Compile(p.Expression); err != nil {
				t.Errorf("%s: %v", p.URL, err)
			}
		}
		for _, c := range p.Component {
			comps++
			if _, err := Compile(c.Expression); err != nil {
				t.Errorf("%s component %s: %v", p.URL, c.Definition, err)
			}
		}
	}
	t.Logf("%d parameters: %d expressions and %d component expressions compile", len(params), exprs, comps)
	if len(params) != 1400 {
		t.Errorf("read %d parameters, want 1400", len(params))
	}
}

// decodeExample decodes an example the way the server does.
func decodeExample(t testing.TB, name string, body []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func appliesTo(base []string, rt string) bool {
	for _, b := range base {
		if b == rt || b == "Resource" || b == "DomainResource" && isDomainResource(rt) {
			return true
		}
	}
	return false
}

// TestSpecExpressionsOnExamples evaluates every applicable parameter (and
// the components of composites) on every official example.
func TestSpecExpressionsOnExamples(t *testing.T) {
	params := specParams(t)
	examples := sharedspec.Examples(t)
	compiled := make([]*Expr, len(params))
	compComps := make([][]*Expr, len(params))
	for i, p := range params {
		if p.Expression == "" {
			continue
		}
		compiled[i] = MustCompile(p.Expression)
		for _, c := range p.Component {
			compComps[i] = append(compComps[i], MustCompile(c.Expression))
		}
	}
	pairs, withValues, values, compValues := 0, 0, 0, 0
	for _, ex := range examples {
		res := decodeExample(t, ex.Name, ex.Body)
		rt := resourceTypeOf(res)
		for i, p := range params {
			if compiled[i] == nil || !appliesTo(p.Base, rt) {
				continue
			}
			pairs++
			got, err := compiled[i].Eval(res)
			if err != nil {
				t.Errorf("%s %s: %v", ex.Name, p.URL, err)
				continue
			}
			if len(got) > 0 {
				withValues++
				values += len(got)
			}
			for _, n := range got {
				for j, ce := range compComps[i] {
					cv, err := ce.EvalFrom(res, n)
					if err != nil {
						t.Errorf("%s %s component %d: %v", ex.Name, p.URL, j, err)
					}
					compValues += len(cv)
				}
			}
		}
	}
	t.Logf("%d examples: %d (resource, parameter) pairs evaluated, %d produced at least one value (%d values, %d composite component values)",
		len(examples), pairs, withValues, values, compValues)
	if withValues == 0 {
		t.Error("no parameter produced a value")
	}
}

// TestSpotChecks checks known values in the official examples.
func TestSpotChecks(t *testing.T) {
	byName := map[string]map[string]any{}
	for _, ex := range sharedspec.Examples(t) {
		byName[ex.Name] = decodeExample(t, ex.Name, ex.Body)
	}
	for _, c := range []struct{ resource, expr, want string }{
		{"Patient/example", "Patient.birthDate | Person.birthDate | RelatedPerson.birthDate", `:"1974-12-25"`},
		{"Patient/example", "Patient.name.family", `:"Chalmers" :"Windsor"`},
		{"Patient/example", "Patient.deceased.exists() and Patient.deceased != false", `boolean:false`},
		{"Patient/example", "Patient.generalPractitioner", ``},
		{"Patient/example", "Patient.managingOrganization.where(resolve() is Organization).reference", `:"Organization/1"`},
		{"Observation/example", "Observation.code", `:{"coding":[{"code":"29463-7","display":"Body Weight","system":"http://loinc.org"},{"code":"3141-9","display":"Body weight Measured","system":"http://loinc.org"},{"code":"27113001","display":"Body weight","system":"http://snomed.info/sct"},{"code":"body-weight","display":"Body Weight","system":"http://acme.org/devices/clinical-codes"}]}`},
		{"Observation/example", "(Observation.value as Quantity)", `Quantity:{"code":"[lb_av]","system":"http://unitsofmeasure.org","unit":"lbs","value":185}`},
		{"Observation/example", "Observation.subject.where(resolve() is Patient)", `:{"reference":"Patient/example"}`},
		{"Observation/example", "Observation.effective", `dateTime:"2016-03-28"`},
	} {
		res, ok := byName[c.resource]
		if !ok {
			t.Errorf("example %s not found", c.resource)
			continue
		}
		got, err := MustCompile(c.expr).Eval(res)
		if err != nil {
			t.Errorf("%s %q: %v", c.resource, c.expr, err)
			continue
		}
		if s := show(got); s != c.want {
			t.Errorf("%s %q\n got: %s\nwant: %s", c.resource, c.expr, s, c.want)
		}
	}
}
