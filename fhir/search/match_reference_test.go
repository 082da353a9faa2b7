package search

import "testing"

func TestMatchReference(t *testing.T) {
	pat := []Entry{{Param: "subject", Kind: Reference, RefType: "Patient", RefID: "123"}}
	grp := []Entry{{Param: "subject", Kind: Reference, RefType: "Group", RefID: "123"}}
	ext := []Entry{{Param: "subject", Kind: Reference, URL: "http://other.example/fhir/Patient/9"}}
	ident := []Entry{{Param: "subject", Kind: Reference, System: "https://fhir.nhs.uk/Id/nhs-number", Code: "9434765919"}}
	runMatchCases(t, "Observation", []matchCase{
		{"subject=Patient/123", pat, true},
		{"subject=Patient/124", pat, false},
		{"subject=Patient/123", grp, false},
		{"subject=123", pat, true}, // several targets: any type
		{"subject=123", grp, true},
		{"subject=123", []Entry{{Param: "subject", Kind: Reference, URL: "123"}}, true}, // relative, as written
		{"subject:Patient=123", []Entry{{Param: "subject", Kind: Reference, URL: "123"}}, false},
		{"subject:Patient=123", grp, false},
		{"subject:Group=123", grp, true},
		{"subject=https://telederm.example/fhir/Patient/123", pat, true}, // our base is local
		{"subject=http://other.example/fhir/Patient/9", ext, true},
		{"subject=http://other.example/fhir/Patient/9", pat, false},
		{"subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", ident, true},
		{"subject:identifier=9434765919", ident, true},
		{"subject:identifier=|9434765919", ident, false},
		{"subject:identifier=https://fhir.nhs.uk/Id/nhs-number|1", ident, false},
		{"subject:identifier=9434765919", pat, false},
		{"patient=123", []Entry{{Param: "patient", Kind: Reference, RefType: "Patient", RefID: "123"}}, true}, // one target: the type is known
		{"patient=123", []Entry{{Param: "patient", Kind: Reference, RefType: "Group", RefID: "123"}}, false},
		{"patient=123", pat, false}, // subject's entries are not patient's
	})
	canon := []Entry{{Param: "questionnaire", Kind: Reference, URL: "http://x.org/Questionnaire/derm", Version: "2.0"}}
	runMatchCases(t, "QuestionnaireResponse", []matchCase{
		{"questionnaire=http://x.org/Questionnaire/derm", canon, true}, // any version
		{"questionnaire=http://x.org/Questionnaire/derm|2.0", canon, true},
		{"questionnaire=http://x.org/Questionnaire/derm|1.0", canon, false},
		{"questionnaire=http://x.org/Questionnaire/other", canon, false},
	})
}
