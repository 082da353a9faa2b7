package search

import "testing"

func TestTokenEntries(t *testing.T) {
	tok := func(system, code, text string) Entry { return Entry{System: system, Code: code, Text: text} }
	t.Run("CodeableConcept", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "code", URL: "u:code", Type: Token, Base: []string{"Observation"}, Expression: "Observation.code"}}, []indexCase{
			{
				name: "codings with displays, concept text on one more entry",
				resource: `{"resourceType":"Observation","code":{"text":"Body weight (measured)","coding":[
					{"system":"http://loinc.org","code":"29463-7","display":"Body Weight"},
					{"system":"http://snomed.info/sct","code":"27113001","display":"Bödy weight"}]}}`,
				want: []Entry{
					tok("http://loinc.org", "29463-7", "body weight"),
					tok("http://loinc.org", "29463-7", "body weight measured"),
					tok("http://snomed.info/sct", "27113001", "body weight"),
				},
			},
			{
				name: "codings without display carry the concept text",
				resource: `{"resourceType":"Observation","code":{"text":"Mole","coding":[
					{"system":"http://snomed.info/sct","code":"400010006"},{"code":"local-1"}]}}`,
				want: []Entry{tok("http://snomed.info/sct", "400010006", "mole"), tok("", "local-1", "mole")},
			},
			{
				name:     "text only",
				resource: `{"resourceType":"Observation","code":{"text":"Itchy rash"}}`,
				want:     []Entry{tok("", "", "itchy rash")},
			},
			{
				name:     "coding with system only",
				resource: `{"resourceType":"Observation","code":{"coding":[{"system":"http://loinc.org"}]}}`,
				want:     []Entry{tok("http://loinc.org", "", "")},
			},
			{
				name:     "empty concept",
				resource: `{"resourceType":"Observation","code":{"coding":[{"display":""}]}}`,
			},
		})
	})

	t.Run("Coding", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "_tag", URL: "u:tag", Type: Token, Base: []string{"Resource"}, Expression: "meta.tag"}}, []indexCase{{
			name:     "meta.tag",
			resource: `{"resourceType":"Patient","meta":{"tag":[{"system":"http://t","code":"a","display":"Çà"},{"code":"b"}]}}`,
			want:     []Entry{tok("http://t", "a", "ca"), tok("", "b", "")},
		}})
	})

	t.Run("Identifier", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "identifier", URL: "u:id", Type: Token, Base: []string{"Patient"}, Expression: "Patient.identifier"}}, []indexCase{
			{
				name: "typed identifier: one entry without type and one per type coding",
				resource: `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919",
					"type":{"text":"NHS Number","coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NH"},{"system":"http://x","code":"nhs"}]}}]}`,
				want: []Entry{
					{System: "https://fhir.nhs.uk/Id/nhs-number", Code: "9434765919", Text: "nhs number"},
					{System: "https://fhir.nhs.uk/Id/nhs-number", Code: "9434765919", Text: "nhs number", TypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", TypeCode: "NH"},
					{System: "https://fhir.nhs.uk/Id/nhs-number", Code: "9434765919", Text: "nhs number", TypeSystem: "http://x", TypeCode: "nhs"},
				},
			},
			{
				name:     "type display stands in for type text",
				resource: `{"resourceType":"Patient","identifier":[{"value":"A1","type":{"coding":[{"code":"MR","display":"Medical record number"}]}}]}`,
				want: []Entry{
					{Code: "A1", Text: "medical record number"},
					{Code: "A1", Text: "medical record number", TypeCode: "MR"},
				},
			},
			{
				name:     "without system, and a value-less one skipped",
				resource: `{"resourceType":"Patient","identifier":[{"value":"12345"},{"use":"official"}]}`,
				want:     []Entry{tok("", "12345", "")},
			},
		})
	})

	t.Run("ContactPoint", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "phone", URL: "u:phone", Type: Token, Base: []string{"Patient"}, Expression: "Patient.telecom.where(system='phone')"}}, []indexCase{{
			name: "value as code, no system",
			resource: `{"resourceType":"Patient","telecom":[{"system":"phone","value":"01632 960001","use":"home"},
				{"system":"email","value":"a@example.org"},{"system":"phone","use":"work"}]}`,
			want: []Entry{tok("", "01632 960001", "")},
		}})
	})

	t.Run("primitives", func(t *testing.T) {
		params := []Param{
			{Code: "_id", URL: "u:_id", Type: Token, Base: []string{"Resource"}, Expression: "Resource.id"},
			{Code: "active", URL: "u:active", Type: Token, Base: []string{"Patient"}, Expression: "Patient.active"},
			{Code: "gender", URL: "u:gender", Type: Token, Base: []string{"Patient"}, Expression: "Patient.gender"},
			{Code: "deceased", URL: "u:deceased", Type: Token, Base: []string{"Patient"}, Expression: "Patient.deceased.exists() and Patient.deceased != false"},
			{Code: "url", URL: "u:url", Type: Token, Base: []string{"Patient"}, Expression: "Patient.photo.url"},
		}
		runIndexCases(t, params, []indexCase{{
			name: "id, boolean, code, uri",
			resource: `{"resourceType":"Patient","id":"p-1","active":false,"gender":"female","deceasedDateTime":"2020-01-01",
				"photo":[{"url":"https://example.org/p.jpg"}]}`,
			want: []Entry{
				{Param: "_id", Kind: Token, Code: "p-1"},
				{Param: "active", Kind: Token, Code: "false"},
				{Param: "deceased", Kind: Token, Code: "true"},
				{Param: "gender", Kind: Token, Code: "female"},
				{Param: "url", Kind: Token, Code: "https://example.org/p.jpg"},
			},
		}})
	})

	t.Run("extension", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "ethnicity", URL: "u:eth", Type: Token, Base: []string{"Patient"},
			Expression: "Patient.extension('http://example.org/ethnicity')"}}, []indexCase{{
			name: "an expression stopping at the extension indexes its value",
			resource: `{"resourceType":"Patient","extension":[{"url":"http://example.org/ethnicity",
				"valueCodeableConcept":{"coding":[{"system":"http://e","code":"A"}]}},{"url":"http://other","valueCode":"x"}]}`,
			want: []Entry{tok("http://e", "A", "")},
		}})
	})
}
