package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

func TestStringSources(t *testing.T) {
	reg := Default()
	tests := []struct {
		typ, code string
		want      Sources
	}{
		{"Patient", "name", Sources{Params: []string{"name", "family", "given"}}},
		{"Patient", "phonetic", Sources{Params: []string{"name", "family", "given"}, Alias: true}},
		{"Patient", "family", Sources{Params: []string{"family"}}},
		{"Patient", "address", Sources{Params: []string{"address", "address-city", "address-country", "address-postalcode", "address-state"}}},
		{"Practitioner", "name", Sources{Params: []string{"name", "family", "given"}}},
		{"Organization", "name", Sources{Params: []string{"name"}}}, // Organization.name | alias: no narrower
		{"Patient", "gender", Sources{Params: []string{"gender"}}},  // not a string
		{"Observation", "code", Sources{Params: []string{"code"}}},  // not a string
		{"Patient", "no-such-param", Sources{Params: []string{"no-such-param"}}},
	}
	for _, tc := range tests {
		got := reg.StringSources(tc.typ, tc.code)
		if got.Alias != tc.want.Alias || !slices.Equal(sorted(got.Params[1:]), sorted(tc.want.Params[1:])) || got.Params[0] != tc.want.Params[0] {
			t.Errorf("%s.%s: %+v, want %+v", tc.typ, tc.code, got, tc.want)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestTokenSources(t *testing.T) {
	reg := Default()
	tests := []struct {
		typ, code string
		want      Sources
	}{
		{"Patient", "telecom", Sources{Params: []string{"telecom", "email", "phone"}}},
		{"Practitioner", "telecom", Sources{Params: []string{"telecom", "email", "phone"}}},
		{"Patient", "phone", Sources{Params: []string{"phone"}}},
		{"Observation", "combo-code", Sources{Params: []string{"combo-code", "code", "component-code"}}},
		{"Observation", "combo-value-concept", Sources{Params: []string{"combo-value-concept", "component-value-concept", "value-concept"}}},
		{"Observation", "code", Sources{Params: []string{"code"}}},
		// R4 gives fhirversion CapabilityStatement.version's expression.
		{"CapabilityStatement", "version", Sources{Params: []string{"fhirversion"}, Alias: true}},
		{"Patient", "name", Sources{Params: []string{"name"}}}, // not a token
		{"Patient", "no-such-param", Sources{Params: []string{"no-such-param"}}},
	}
	for _, tc := range tests {
		got := reg.TokenSources(tc.typ, tc.code)
		if got.Alias != tc.want.Alias || !slices.Equal(got.Params, tc.want.Params) {
			t.Errorf("%s.%s: %+v, want %+v", tc.typ, tc.code, got, tc.want)
		}
		if tc.want.Alias || len(tc.want.Params) > 1 {
			if got := reg.SourcesFor(tc.typ)[tc.code]; !slices.Equal(got.Params, tc.want.Params) {
				t.Errorf("SourcesFor(%s)[%s] = %+v, want %+v", tc.typ, tc.code, got, tc.want)
			}
		}
	}
}

func TestCompositeSources(t *testing.T) {
	reg := Default()
	tests := []struct {
		typ, code string
		want      Sources
	}{
		{"Observation", "combo-code-value-quantity", Sources{Params: []string{"combo-code-value-quantity", "code-value-quantity", "component-code-value-quantity"}}},
		{"Observation", "combo-code-value-concept", Sources{Params: []string{"combo-code-value-concept", "code-value-concept", "component-code-value-concept"}}},
		// The same branches as code-value-quantity's, other components.
		{"Observation", "code-value-concept", Sources{Params: []string{"code-value-concept"}}},
		{"Observation", "code-value-quantity", Sources{Params: []string{"code-value-quantity"}}},
	}
	for _, tc := range tests {
		if got := reg.Sources(tc.typ, tc.code); got.Alias != tc.want.Alias || !slices.Equal(got.Params, tc.want.Params) {
			t.Errorf("%s.%s: %+v, want %+v", tc.typ, tc.code, got, tc.want)
		}
	}
}

func TestNarrowerBranches(t *testing.T) {
	tests := []struct {
		q, p []string
		want bool
	}{
		{[]string{"Patient.telecom.where(system='phone')"}, []string{"Patient.telecom"}, true},
		{[]string{"Observation.code"}, []string{"Observation.code", "Observation.component.code"}, true},
		{[]string{"Observation.code"}, []string{"Observation.code"}, false}, // the same: an alias
		{[]string{"Patient.telecom.where(system='phone').value"}, []string{"Patient.telecom"}, false},
		{[]string{"Patient.telecom.where(system='a').where(use='b')"}, []string{"Patient.telecom"}, false},
		{[]string{"Patient.telecom.where(system='phone') | Patient.contact.telecom"}, []string{"Patient.telecom"}, false},
		{[]string{"Patient.telecom.where(system=')')"}, []string{"Patient.telecom"}, true},
		{[]string{"Patient.telecom.exists()"}, []string{"Patient.telecom"}, false},
	}
	for _, tc := range tests {
		if got := narrowerBranches(tc.q, tc.p); got != tc.want {
			t.Errorf("narrowerBranches(%q, %q) = %v, want %v", tc.q, tc.p, got, tc.want)
		}
	}
}

func TestSplitUnion(t *testing.T) {
	got := splitUnion("Patient.a | (Patient.b as Coding) | Patient.c.where(x = 'p|q' or y.exists()) |Patient.d")
	want := []string{"Patient.a", "(Patient.b as Coding)", "Patient.c.where(x = 'p|q' or y.exists())", "Patient.d"}
	if !slices.Equal(got, want) {
		t.Errorf("splitUnion: %q, want %q", got, want)
	}
}

// TestSourcesAcrossTypes: for every type, the entries a search over
// several types matches are exactly those a search on that type alone
// does: the parameter itself (which stores nothing when an alias) and its
// own Sources.
func TestSourcesAcrossTypes(t *testing.T) {
	reg := Default()
	checked := 0
	for typ := range reg.sorted {
		for _, p := range reg.ForType(typ) {
			if p.Type != String && p.Type != Token && p.Type != Composite {
				continue
			}
			var covered []string
			for _, g := range reg.SourcesAcrossTypes(p.Type, p.Code) {
				if slices.Contains(g.Types, typ) {
					covered = append(covered, g.Params...)
				}
			}
			want := slices.DeleteFunc(slices.Clone(reg.Sources(typ, p.Code).Params), func(c string) bool { return c == p.Code })
			if !slices.Equal(sorted(covered), sorted(want)) {
				t.Errorf("%s.%s: a search over several types covers %v besides itself, want %v", typ, p.Code, covered, want)
			}
			checked++
		}
	}
	var patient, organization []string
	for _, g := range reg.SourcesAcrossTypes(String, "phonetic") {
		if slices.Contains(g.Types, "Patient") {
			patient = g.Params
		}
		if slices.Contains(g.Types, "Organization") {
			organization = g.Params
		}
	}
	if !slices.Equal(patient, []string{"name", "family", "given"}) || organization != nil {
		t.Errorf("phonetic across types: Patient's under %v, Organization's under %v; want name, family and given, and none", patient, organization)
	}
	t.Logf("%d (type, parameter) pairs checked", checked)
}

// TestSourcesHoldOnExamples checks the claim Sources makes on every
// official example, for string and token parameters: a narrower
// parameter's entries are all among the wider one's (by value), and an
// alias's entries are exactly its base's.
func TestSourcesHoldOnExamples(t *testing.T) {
	reg := Default()
	ix := NewIndexer(reg, "")
	checked := map[Type]int{}
	for _, ex := range sharedspec.Examples(t) {
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(ex.Body))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		entries, _ := ix.Entries(doc)
		typ, _ := doc["resourceType"].(string)
		values := map[string]map[entryValue]bool{}
		for _, e := range entries {
			if e.Kind != String && e.Kind != Token && e.Kind != Composite {
				continue
			}
			if values[e.Param] == nil {
				values[e.Param] = map[entryValue]bool{}
			}
			values[e.Param][valueOf(e)] = true
		}
		for code, own := range values {
			kind := Token
			if p, ok := reg.Lookup(typ, code); ok {
				kind = p.Type
			}
			src := reg.Sources(typ, code)
			if src.Alias {
				base := values[src.Params[0]]
				if len(base) != len(own) {
					t.Errorf("%s: %s has %d values, its base %s %d", ex.Name, code, len(own), src.Params[0], len(base))
				}
				for v := range own {
					if !base[v] {
						t.Errorf("%s: %s value %v is not among %s's", ex.Name, code, v, src.Params[0])
					}
				}
				checked[kind]++
				continue
			}
			for _, narrow := range src.Params[1:] {
				for v := range values[narrow] {
					if !own[v] {
						t.Errorf("%s: %s value %v is not among %s's", ex.Name, narrow, v, code)
					}
				}
				checked[kind]++
			}
		}
	}
	if checked[Token] == 0 || checked[String] == 0 || checked[Composite] == 0 {
		t.Errorf("claims checked: %v, want some of each kind", checked)
	}
	t.Logf("(resource, parameter, source) claims checked: %d string, %d token, %d composite", checked[String], checked[Token], checked[Composite])
}

// entryValue is an entry's value without its parameter: what a wider
// parameter's entry shares with a narrower one's. A composite's parts are
// written out in parts.
type entryValue struct {
	kind                                            Type
	system, code, text, typeSystem, typeCode, exact string
	parts                                           string
}

func valueOf(e Entry) entryValue {
	v := entryValue{kind: e.Kind, system: e.System, code: e.Code, text: e.Text, typeSystem: e.TypeSystem, typeCode: e.TypeCode, exact: e.Exact}
	for _, p := range e.Parts {
		p.Param = ""
		v.parts += fmt.Sprintf("%+v;", p)
	}
	return v
}
