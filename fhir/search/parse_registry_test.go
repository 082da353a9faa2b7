package search

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// The real registry is what Parse is written against.
var _ Lookup = (*Registry)(nil)

func parseReal(t *testing.T, typ, query string) *Query {
	t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOpts()
	opts.Strict = true
	q, out := Parse(Default(), typ, vals, opts)
	if out != nil || q == nil {
		t.Fatalf("%s?%s: %v", typ, query, out)
	}
	return q
}

func TestParseWithDefaultRegistry(t *testing.T) {
	queries := []struct{ typ, query string }{
		{"Patient", "name=zoe&birthdate=ge2000&gender=female&identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919"},
		{"Patient", "_id=1&_lastUpdated=gt2020&_tag=http://x|y&_profile=http://p&_security=http://s|R&_source=http://src"},
		{"Patient", "general-practitioner:Practitioner.name=smith&_has:Observation:patient:code=8480-6"},
		{"Observation", "code-value-quantity=http://loinc.org|8480-6$gt100||mm[Hg]&value-quantity=5.4|http://unitsofmeasure.org|mm"},
		{"Observation", "subject:Patient.organization.name=x&patient.birthdate=lt2000&_include=Observation:subject:Patient&_revinclude=DiagnosticReport:result&_sort=-date"},
		{"ServiceRequest", "subject=Patient/1&status=active,on-hold&authored=ge2024-01-01&_include:iterate=Patient:general-practitioner"},
		{"", "_type=Patient,Practitioner&name=smith&_id=1"},
	}
	for _, tt := range queries {
		q := parseReal(t, tt.typ, tt.query)
		vals, _ := url.ParseQuery(tt.query)
		if len(q.Where) == 0 && len(vals) > 0 && !strings.HasPrefix(tt.query, "_type") {
			t.Errorf("%s: no clauses", tt.query)
		}
	}
}

// TestIndexerAgreement indexes resources with the Indexer and matches them
// with MatchEntries: the write side and the reference semantics must agree.
func TestIndexerAgreement(t *testing.T) {
	ix := NewIndexer(Default(), "https://telederm.example/fhir")
	entries := func(js string) []Entry {
		t.Helper()
		d := json.NewDecoder(strings.NewReader(js))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		es, err := ix.Entries(m)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	patient := entries(`{"resourceType":"Patient","id":"p1",
		"identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919",
			"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NH"}]}}],
		"name":[{"family":"O'Brien","given":["Zoë"]}],"gender":"female","birthDate":"1987-03-14",
		"generalPractitioner":[{"reference":"https://telederm.example/fhir/Practitioner/gp1"}]}`)
	obs := entries(`{"resourceType":"Observation","id":"o1","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
		"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-01T10:30:00Z",
		"valueQuantity":{"value":142.0,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`)

	tests := []struct {
		typ, query string
		es         []Entry
		want       bool
	}{
		{"Patient", "name=zoe", patient, true},
		{"Patient", "name=obrien", patient, false},
		{"Patient", "name=o%20bri", patient, true},
		{"Patient", "family:exact=O'Brien", patient, true},
		{"Patient", "family:exact=o'brien", patient, false},
		{"Patient", "birthdate=1987", patient, true},
		{"Patient", "birthdate=1987-03-14", patient, true},
		{"Patient", "birthdate=gt1987-03-14", patient, false},
		{"Patient", "birthdate=sa1986", patient, true},
		{"Patient", "gender=female", patient, true},
		{"Patient", "gender:not=male", patient, true},
		{"Patient", "identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", patient, true},
		{"Patient", "identifier=|9434765919", patient, false},
		{"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NH|9434765919", patient, true},
		{"Patient", "general-practitioner=Practitioner/gp1", patient, true},
		{"Patient", "general-practitioner:Practitioner=gp1", patient, true},
		{"Patient", "general-practitioner=https://telederm.example/fhir/Practitioner/gp1", patient, true},
		{"Patient", "organization:missing=true", patient, true},
		{"Patient", "birthdate:missing=false", patient, true},
		{"Observation", "code=http://loinc.org|8480-6", obs, true},
		{"Observation", "code:text=systolic", obs, true},
		{"Observation", "subject=Patient/p1", obs, true},
		{"Observation", "patient=p1", obs, true},
		{"Observation", "date=2024-05-01", obs, true},
		{"Observation", "date=lt2024-05-01T10:30:00Z", obs, false},
		{"Observation", "value-quantity=gt140|http://unitsofmeasure.org|mm[Hg]", obs, true},
		{"Observation", "value-quantity=142||mmHg", obs, true},
		{"Observation", "value-quantity=142.0||mm[Hg]", obs, true},
		{"Observation", "value-quantity=ap150||mm[Hg]", obs, true},
		{"Observation", "value-quantity=lt140", obs, false},
		{"Observation", "code-value-quantity=http://loinc.org|8480-6$gt140", obs, true},
		{"Observation", "code-value-quantity=http://loinc.org|8462-4$gt140", obs, false},
	}
	for _, tt := range tests {
		q := parseReal(t, tt.typ, tt.query)
		if len(q.Where) != 1 {
			t.Fatalf("%s: %d clauses", tt.query, len(q.Where))
		}
		if got := q.Where[0].MatchEntries(tt.es); got != tt.want {
			t.Errorf("%s?%s: %v, want %v", tt.typ, tt.query, got, tt.want)
		}
	}
}
