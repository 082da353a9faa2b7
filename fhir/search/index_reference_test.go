package search

import "testing"

func TestReferenceEntries(t *testing.T) {
	local := func(typ, id string) Entry { return Entry{RefType: typ, RefID: id} }
	subject := []Param{{Code: "subject", URL: "u:subject", Type: Reference, Base: []string{"Observation"},
		Expression: "Observation.subject", Targets: []string{"Patient", "Group"}}}
	obs := func(ref string) string { return `{"resourceType":"Observation","subject":` + ref + `}` }
	runIndexCases(t, subject, []indexCase{
		{"relative", obs(`{"reference":"Patient/123"}`), []Entry{local("Patient", "123")}},
		{"relative versioned", obs(`{"reference":"Patient/123/_history/4"}`), []Entry{local("Patient", "123")}},
		{"absolute under the base", obs(`{"reference":"https://example.org/fhir/Patient/abc.1"}`), []Entry{local("Patient", "abc.1")}},
		{"absolute under the base, other scheme, versioned", obs(`{"reference":"http://example.org/fhir/Group/g/_history/1"}`), []Entry{local("Group", "g")}},
		{"foreign absolute", obs(`{"reference":"http://other.org/fhir/Patient/9"}`), []Entry{{URL: "http://other.org/fhir/Patient/9"}}},
		{"under the base but not Type/id", obs(`{"reference":"https://example.org/fhir/Patient/9/$everything"}`), []Entry{{URL: "https://example.org/fhir/Patient/9/$everything"}}},
		{"urn", obs(`{"reference":"urn:uuid:3f9a4a8e-4b5e-4a4c-9b0a-2a0f9a1e0b7c"}`), []Entry{{URL: "urn:uuid:3f9a4a8e-4b5e-4a4c-9b0a-2a0f9a1e0b7c"}}},
		{"contained skipped", `{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}}`, nil},
		{"identifier only", obs(`{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"},"display":"X"}`),
			[]Entry{{System: "https://fhir.nhs.uk/Id/nhs-number", Code: "9434765919"}}},
		{"reference and identifier", obs(`{"reference":"Patient/1","identifier":{"value":"A"}}`), []Entry{local("Patient", "1"), {Code: "A"}}},
		{"display only", obs(`{"display":"Someone"}`), nil},
		{"bare id typed by Reference.type", obs(`{"reference":"123","type":"Group"}`), []Entry{local("Group", "123")}},
		{"bare id with several targets", obs(`{"reference":"123"}`), nil},
		{"malformed", obs(`{"reference":"Patient/a b"}`), nil},
	})

	runIndexCases(t, []Param{{Code: "patient", URL: "u:patient", Type: Reference, Base: []string{"Observation"},
		Expression: "Observation.subject", Targets: []string{"Patient"}}}, []indexCase{
		{"bare id typed by the single target", obs(`{"reference":"123"}`), []Entry{local("Patient", "123")}},
	})

	runIndexCases(t, []Param{{Code: "definition", URL: "u:def", Type: Reference, Base: []string{"CarePlan"},
		Expression: "CarePlan.instantiatesCanonical", Targets: []string{"Questionnaire", "PlanDefinition"}}}, []indexCase{
		{"canonicals", `{"resourceType":"CarePlan","instantiatesCanonical":[
			"http://hl7.org/fhir/Questionnaire/phq-9|4.0.1",
			"http://hl7.org/fhir/PlanDefinition/p",
			"https://example.org/fhir/Questionnaire/local|2",
			"Questionnaire/q7",
			"#contained"]}`,
			[]Entry{
				{URL: "http://hl7.org/fhir/Questionnaire/phq-9", Version: "4.0.1"},
				{URL: "http://hl7.org/fhir/PlanDefinition/p"},
				{RefType: "Questionnaire", RefID: "local", Version: "2"},
				local("Questionnaire", "q7"),
			}},
	})

	runIndexCases(t, []Param{{Code: "composition", URL: "u:comp", Type: Reference, Base: []string{"Bundle"},
		Expression: "Bundle.entry[0].resource", Targets: []string{"Composition"}}}, []indexCase{
		{"a resource is no reference", `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","id":"c"}}]}`, nil},
	})
}
