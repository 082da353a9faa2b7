package search

import "testing"

func TestMatchToken(t *testing.T) {
	snomed := "http://snomed.info/sct"
	es := []Entry{
		{Param: "code", Kind: Token, System: snomed, Code: "254637007", Text: Normalize("Malignant melanoma")},
		{Param: "code", Kind: Token, Code: "local-1", Text: Normalize("Skin lesion")},
	}
	runMatchCases(t, "Observation", []matchCase{
		{"code=254637007", es, true},                      // any system
		{"code=" + snomed + "|254637007", es, true},       // that system
		{"code=http://loinc.org|254637007", es, false},    // another system
		{"code=|254637007", es, false},                    // explicitly no system
		{"code=|local-1", es, true},                       // ... which local-1 has
		{"code=" + snomed + "|", es, true},                // any code in the system
		{"code=http://loinc.org|", es, false},             //
		{"code=254637007X", es, false},                    //
		{"code=LOCAL-1", es, false},                       // codes are case-sensitive
		{"code:text=malignant", es, true},                 // text starts with, normalised
		{"code:text=MÉLANOMA", es, false},                 // not at the start
		{"code:text=skin%20les", es, true},                //
		{"code:not=254637007", es, false},                 // one entry matches
		{"code:not=http://loinc.org|254637007", es, true}, // none does
		{"code:not=x", nil, true},                         // no value at all matches :not
	})
	mrn := []Entry{
		{Param: "identifier", Kind: Token, System: "urn:mrn", Code: "12345"},
		{Param: "identifier", Kind: Token, System: "urn:mrn", Code: "12345", TypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", TypeCode: "MR"},
	}
	runMatchCases(t, "Patient", []matchCase{
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345", mrn, true},
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|99999", mrn, false},
		{"identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|PT|12345", mrn, false},
		{"identifier=urn:mrn|12345", mrn, true},
		{"gender=true", []Entry{{Param: "gender", Kind: Token, Code: "true"}}, true},
		{`gender=a\|b`, []Entry{{Param: "gender", Kind: Token, Code: "a|b"}}, true},
		{`gender=a\|b`, []Entry{{Param: "gender", Kind: Token, System: "a", Code: "b"}}, false},
	})
}
