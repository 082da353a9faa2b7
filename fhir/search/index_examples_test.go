package search

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// TestEntriesOfficialExamples indexes every official R4 example: no error,
// every entry well formed, and a report of how much gets indexed.
func TestEntriesOfficialExamples(t *testing.T) {
	examples := sharedspec.Examples(t)
	reg := Default()
	ix := NewIndexer(reg, "http://hl7.org/fhir")
	var (
		pairs, indexed, total int
		byKind                = map[Type]int{}
		byName                = map[string][]Entry{}
	)
	for _, ex := range examples {
		r := decodeExample(t, ex.Name, ex.Body)
		es, err := ix.Entries(r)
		if err != nil {
			t.Errorf("%s: %v", ex.Name, err)
		}
		rt := r["resourceType"].(string)
		params := map[string]*Param{}
		for _, p := range reg.ForType(rt) {
			if p.Type != Special && reg.Expr(p) != nil {
				pairs++
			}
			params[p.Code] = p
		}
		seen := map[string]bool{}
		for i, e := range es {
			if i > 0 && compareIndexEntries(es[i-1], e) >= 0 {
				t.Errorf("%s: entries not sorted and unique at %d", ex.Name, i)
			}
			p := params[e.Param]
			if p == nil || p.Type != e.Kind {
				t.Errorf("%s: entry %+v is not of a parameter of %s", ex.Name, e, rt)
				continue
			}
			ixCheckEntry(t, ex.Name, e)
			if e.Kind == Composite {
				if len(e.Parts) != len(p.Components) {
					t.Errorf("%s: %s has %d parts, want %d", ex.Name, e.Param, len(e.Parts), len(p.Components))
				}
				for _, part := range e.Parts {
					ixCheckEntry(t, ex.Name, part)
				}
			}
			seen[e.Param] = true
			byKind[e.Kind]++
		}
		indexed += len(seen)
		total += len(es)
		byName[ex.Name] = es
	}
	kinds := make([]string, 0, len(byKind))
	for k, n := range byKind {
		kinds = append(kinds, string(k)+" "+ixItoa(n))
	}
	sort.Strings(kinds)
	t.Logf("%d examples: %d (resource, parameter) pairs with an expression, %d produced entries; %d entries (%s)",
		len(examples), pairs, indexed, total, strings.Join(kinds, ", "))

	has := func(name string, want Entry) {
		t.Helper()
		for _, e := range byName[name] {
			if e.Param == want.Param && ixEntryHas(e, want) {
				return
			}
		}
		t.Errorf("%s: no entry like %+v in\n%s", name, want, ixShow(byName[name]))
	}
	if _, ok := byName["Patient/example"]; !ok {
		t.Fatal("no Patient/example")
	}
	has("Patient/example", Entry{Param: "birthdate", Kind: Date, Lo: ixMicros(1974, 12, 25, 0, 0, 0, 0), Hi: ixMicros(1974, 12, 26, 0, 0, 0, 0)})
	has("Patient/example", Entry{Param: "family", Kind: String, Text: "chalmers", Exact: "Chalmers"})
	has("Patient/example", Entry{Param: "name", Kind: String, Text: "peter james chalmers", Exact: "Peter James Chalmers"})
	has("Patient/example", Entry{Param: "identifier", Kind: Token, System: "urn:oid:1.2.36.146.595.217.0.1", Code: "12345"})
	has("Patient/example", Entry{Param: "identifier", Kind: Token, System: "urn:oid:1.2.36.146.595.217.0.1", Code: "12345",
		TypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", TypeCode: "MR"})
	has("Patient/example", Entry{Param: "phone", Kind: Token, Code: "(03) 5555 6473"})
	has("Patient/example", Entry{Param: "gender", Kind: Token, Code: "male"})
	has("Patient/example", Entry{Param: "organization", Kind: Reference, RefType: "Organization", RefID: "1"})
	has("Patient/example", Entry{Param: "_id", Kind: Token, Code: "example"})
	has("Observation/example", Entry{Param: "code", Kind: Token, System: "http://loinc.org", Code: "29463-7"})
	has("Observation/example", Entry{Param: "value-quantity", Kind: Quantity, Num: 185, NumLo: 184.5, NumHi: 185.5,
		System: "http://unitsofmeasure.org", Code: "[lb_av]", Text: "lbs"})
	has("Observation/example", Entry{Param: "subject", Kind: Reference, RefType: "Patient", RefID: "example"})
	has("Observation/example", Entry{Param: "date", Kind: Date, Lo: ixMicros(2016, 3, 28, 0, 0, 0, 0), Hi: ixMicros(2016, 3, 29, 0, 0, 0, 0)})
	has("Observation/example", Entry{Param: "code-value-quantity", Kind: Composite, Parts: []Entry{
		{Param: "code", Kind: Token, System: "http://loinc.org", Code: "29463-7", Text: "body weight"},
		{Param: "value-quantity", Kind: Quantity, Num: 185, NumLo: 184.5, NumHi: 185.5, System: "http://unitsofmeasure.org", Code: "[lb_av]", Text: "lbs"},
	}})
}

// ixEntryHas reports whether e has every non-zero field of want.
func ixEntryHas(e, want Entry) bool {
	if len(want.Parts) > 0 {
		return compareIndexEntries(e, want) == 0
	}
	pairs := [][2]string{
		{e.System, want.System}, {e.Code, want.Code}, {e.Text, want.Text}, {e.TypeSystem, want.TypeSystem},
		{e.TypeCode, want.TypeCode}, {e.Exact, want.Exact}, {e.RefType, want.RefType}, {e.RefID, want.RefID},
		{e.URL, want.URL}, {e.Version, want.Version},
	}
	for _, p := range pairs {
		if p[1] != "" && p[0] != p[1] {
			return false
		}
	}
	if want.Kind == Date && (e.Lo != want.Lo || e.Hi != want.Hi) {
		return false
	}
	if (want.Kind == Number || want.Kind == Quantity) && (e.Num != want.Num || e.NumLo != want.NumLo || e.NumHi != want.NumHi) {
		return false
	}
	return true
}

// ixCheckEntry checks the fields an entry of its kind must have.
func ixCheckEntry(t *testing.T, name string, e Entry) {
	t.Helper()
	bad := false
	switch e.Kind {
	case Token:
		bad = e.System == "" && e.Code == "" && e.Text == ""
	case String:
		bad = strings.TrimSpace(e.Exact) == ""
	case Date:
		bad = e.Lo >= e.Hi
	case Number, Quantity:
		bad = math.IsNaN(e.Num) || math.IsInf(e.NumLo, 0) || math.IsInf(e.NumHi, 0) || e.NumLo > e.Num || e.Num > e.NumHi || e.NumLo == e.NumHi
	case Reference:
		bad = (e.RefType == "") != (e.RefID == "") || e.RefID == "" && e.URL == "" && e.System == "" && e.Code == ""
	case URI:
		bad = e.URL == ""
	case Composite:
		bad = len(e.Parts) == 0
	default:
		bad = true
	}
	if bad {
		t.Errorf("%s: malformed entry %+v", name, e)
	}
}

func ixItoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// ixTypicalPatient is a Patient as a GP system sends it with a referral.
const ixTypicalPatient = `{"resourceType":"Patient","id":"9434765919","meta":{"versionId":"3","lastUpdated":"2024-03-05T10:15:00.123Z",
"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"],"source":"urn:emis:practice:F83004",
"tag":[{"system":"https://example.org/tags","code":"teledermatology"}]},
"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919",
"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
"valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland","code":"01","display":"Number present and verified"}]}}]},
{"system":"https://example.org/Id/mrn","value":"MRN-001234","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]}}],
"active":true,"name":[{"use":"official","family":"Ó Súilleabháin","given":["Zoë","Máire"],"prefix":["Ms"]}],
"telecom":[{"system":"phone","value":"01632 960587","use":"home"},{"system":"phone","value":"07700 900461","use":"mobile"},{"system":"email","value":"zoe@example.org"}],
"gender":"female","birthDate":"1984-07-19",
"address":[{"use":"home","line":["12 Acacia Avenue","Flat 3"],"city":"Leeds","district":"West Yorkshire","postalCode":"LS1 4AP","country":"GB"}],
"generalPractitioner":[{"reference":"Organization/F83004","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"F83004"}}],
"managingOrganization":{"reference":"Organization/F83004"},
"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"en-GB","display":"English (United Kingdom)"}]},"preferred":true}]}`

func BenchmarkEntriesPatient(b *testing.B) {
	ix := NewIndexer(Default(), ixBase)
	r := ixDecode(b, ixTypicalPatient)
	es, err := ix.Entries(r)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ix.Entries(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(es)), "entries/op")
}

// TestExprForOfficialExamples: on every official R4 example, every
// parameter's expression specialised for the example's type selects what
// the whole expression selects.
func TestExprForOfficialExamples(t *testing.T) {
	examples := sharedspec.Examples(t)
	reg := Default()
	var pairs, specialised int
	for _, ex := range examples {
		r := decodeExample(t, ex.Name, ex.Body)
		rt := r["resourceType"].(string)
		for _, p := range reg.ForType(rt) {
			whole, typed := reg.Expr(p), reg.ExprFor(p, rt)
			if whole == nil {
				continue
			}
			pairs++
			if typed != whole {
				specialised++
			}
			want, werr := whole.Eval(r)
			got, gerr := typed.Eval(r)
			if (werr == nil) != (gerr == nil) {
				t.Errorf("%s %s: error %v, whole expression's %v", ex.Name, p.Code, gerr, werr)
				continue
			}
			wj, _ := json.Marshal(want)
			gj, _ := json.Marshal(got)
			if !bytes.Equal(wj, gj) {
				t.Errorf("%s %s: specialised selects %s, the whole expression %s", ex.Name, p.Code, gj, wj)
			}
		}
	}
	t.Logf("%d (example, parameter) pairs, %d with a specialised expression", pairs, specialised)
}

// decodeExample decodes an example as the server does (UseNumber).
func decodeExample(t *testing.T, name string, body []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var r map[string]any
	if err := d.Decode(&r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// TestEntriesAfterMetaChangeOfficialExamples: relabelling every official
// example (a security label and a tag added, versionId and lastUpdated
// changed) and indexing it from its old entries gives what indexing it
// afresh gives.
func TestEntriesAfterMetaChangeOfficialExamples(t *testing.T) {
	examples := sharedspec.Examples(t)
	ix := NewIndexer(Default(), "http://hl7.org/fhir")
	kept := 0
	for _, ex := range examples {
		old, err := ix.Entries(decodeExample(t, ex.Name, ex.Body))
		if err != nil {
			continue // the full indexer's own test reports these
		}
		r := decodeExample(t, ex.Name, ex.Body)
		meta, _ := r["meta"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
		}
		meta["versionId"], meta["lastUpdated"] = "7", "2026-11-27T10:00:00.000Z"
		meta["security"] = append(asList(meta["security"]), map[string]any{"system": "https://telederm.example/fhir/referral-access", "code": "Organization/x"})
		meta["tag"] = append(asList(meta["tag"]), map[string]any{"system": "https://example.org/tags", "code": "t"})
		r["meta"] = meta
		want, err := ix.Entries(r)
		if err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		got, err := ix.EntriesAfterMetaChange(r, old)
		if err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if !bytes.Equal(wj, gj) {
			t.Errorf("%s: after the meta change\n got %s\nwant %s", ex.Name, gj, wj)
		}
		for _, e := range old {
			if p, _ := Default().Lookup(r["resourceType"].(string), e.Param); !Default().ReadsMeta(p) {
				kept++
			}
		}
	}
	t.Logf("%d examples; %d entries kept from the old version rather than extracted again", len(examples), kept)
}

func asList(v any) []any { l, _ := v.([]any); return l }
