package profile

import (
	"context"
	"testing"
)

const goodPatient = `{
  "resourceType": "Patient",
  "id": "p1",
  "extension": [
    {"url": "https://example.test/StructureDefinition/complex-ext", "extension": [
      {"url": "a", "valueCoding": {"system": "https://example.test/CodeSystem/test-codes", "code": "a1"}},
      {"url": "b", "valueInteger": 3}
    ]},
    {"url": "https://elsewhere.test/ext/other", "valueString": "an extension no slice names"}
  ],
  "identifier": [
    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"},
    {"system": "https://hospital.test/mrn", "value": "M123"}
  ],
  "name": [{"family": "Smith", "given": ["Ann"]}],
  "telecom": [{"system": "phone", "value": "0123"}, {"system": "email", "value": "a@example.test"}],
  "gender": "female",
  "birthDate": "1970-03-04",
  "_birthDate": {"extension": [{"url": "https://elsewhere.test/ext/time", "valueTime": "10:00:00"}]},
  "deceasedBoolean": false,
  "maritalStatus": {"coding": [{"system": "https://elsewhere.test/cs", "code": "anything"}]},
  "contact": [{"name": {"family": "Jones"}}, {"name": {"family": "Brown"}}],
  "generalPractitioner": [{"reference": "Organization/gp1"}, {"reference": "https://other.test/fhir/Organization/gp2/_history/3"}]
}`

func TestPatientProfile(t *testing.T) {
	s := loadTestSet(t)
	runCases(t, s, patientURL, goodPatient, []validCase{
		{name: "conforms", want: nil},

		// Cardinality.
		{name: "missing birthDate", edit: func(m map[string]any) { delete(m, "birthDate"); delete(m, "_birthDate") },
			want: []string{"required Patient.birthDate"}},
		{name: "birthDate with only an extension counts", edit: func(m map[string]any) { delete(m, "birthDate") }},
		{name: "missing name", edit: func(m map[string]any) { delete(m, "name") },
			want: []string{"required Patient.name"}},
		{name: "too many addresses", edit: func(m map[string]any) { m["address"] = js(`[{"city":"A"},{"city":"B"}]`) },
			want: []string{"structure Patient.address"}},
		{name: "nested min per repeat of the parent", edit: func(m map[string]any) { m["contact"] = js(`[{"name":{"family":"J"}},{"gender":"male"}]`) },
			want: []string{"required Patient.contact[1].name"}},

		// Required binding on a code; a binding to a ValueSet not in the Set is ignored.
		{name: "gender not in value set", edit: func(m map[string]any) { m["gender"] = "bogus" },
			want: []string{"code-invalid Patient.gender"}},

		// Choice restricted to boolean.
		{name: "deceased as dateTime not allowed", edit: func(m map[string]any) {
			delete(m, "deceasedBoolean")
			m["deceasedDateTime"] = "2020-01-01"
		}, want: []string{"structure Patient.deceasedDateTime"}},

		// Reference targets.
		{name: "GP reference to a Practitioner", edit: func(m map[string]any) {
			arr(m["generalPractitioner"])[1] = js(`{"reference":"Practitioner/x"}`)
		}, want: []string{"structure Patient.generalPractitioner[1]"}},
		{name: "GP reference to a contained Organization", edit: func(m map[string]any) {
			m["contained"] = js(`[{"resourceType":"Organization","id":"o"},{"resourceType":"Practitioner","id":"pr"}]`)
			m["generalPractitioner"] = js(`[{"reference":"#o"}]`)
		}},
		{name: "GP reference to a contained Practitioner", edit: func(m map[string]any) {
			m["contained"] = js(`[{"resourceType":"Practitioner","id":"pr"}]`)
			m["generalPractitioner"] = js(`[{"reference":"#pr"}]`)
		}, want: []string{"structure Patient.generalPractitioner[0]"}},
		{name: "GP urn:uuid and identifier references are not typed", edit: func(m map[string]any) {
			m["generalPractitioner"] = js(`[{"reference":"urn:uuid:0c1e"},{"identifier":{"value":"G1"}}]`)
		}},

		// Slicing by pattern on identifier.system, with slice children and an invariant.
		{name: "no NHS number", edit: func(m map[string]any) { m["identifier"] = js(`[{"system":"https://hospital.test/mrn","value":"M1"}]`) },
			want: []string{"required Patient.identifier"}},
		{name: "no identifiers at all", edit: func(m map[string]any) { delete(m, "identifier") },
			want: []string{"required Patient.identifier"}},
		{name: "two NHS numbers", edit: func(m map[string]any) {
			m["identifier"] = js(`[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"},{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"4010232137"}]`)
		}, want: []string{"structure Patient.identifier"}},
		{name: "NHS number without value", edit: func(m map[string]any) {
			m["identifier"] = js(`[{"system":"https://hospital.test/mrn","value":"M1"},{"system":"https://fhir.nhs.uk/Id/nhs-number"}]`)
		}, want: []string{"required Patient.identifier[1].value"}},
		{name: "NHS number with a bad check digit", edit: func(m map[string]any) {
			obj(arr(m["identifier"])[0])["value"] = "9434765918"
		}, want: []string{"invariant Patient.identifier[0].value"}},
		{name: "NHS number too short", edit: func(m map[string]any) { obj(arr(m["identifier"])[0])["value"] = "943476591" },
			want: []string{"invariant Patient.identifier[0].value"}},
		{name: "another valid NHS number", edit: func(m map[string]any) { obj(arr(m["identifier"])[0])["value"] = "4010232137" }},
		{name: "the invariant only applies to the slice", edit: func(m map[string]any) { obj(arr(m["identifier"])[1])["value"] = "1" }},

		// Closed slicing by value on telecom.system.
		{name: "fax is in no telecom slice", edit: func(m map[string]any) {
			m["telecom"] = js(`[{"system":"email","value":"a@b"},{"system":"fax","value":"1"}]`)
		}, want: []string{"structure Patient.telecom[1]"}},
		{name: "two phones", edit: func(m map[string]any) {
			m["telecom"] = js(`[{"system":"phone","value":"1"},{"system":"phone","value":"2"}]`)
		},
			want: []string{"structure Patient.telecom"}},
		{name: "email slice child min", edit: func(m map[string]any) { m["telecom"] = js(`[{"system":"email"}]`) },
			want: []string{"required Patient.telecom[0].value"}},

		// A complex extension, sliced by url, checked against its StructureDefinition.
		{name: "complex extension missing sub-extension a", edit: func(m map[string]any) {
			ext := obj(arr(m["extension"])[0])
			ext["extension"] = js(`[{"url":"b","valueInteger":1}]`)
		}, want: []string{"required Patient.extension[0].extension"}},
		{name: "complex extension code not in value set", edit: func(m map[string]any) {
			sub := obj(arr(obj(arr(m["extension"])[0])["extension"])[0])
			sub["valueCoding"] = js(`{"system":"https://example.test/CodeSystem/test-codes","code":"zzz"}`)
		}, want: []string{"code-invalid Patient.extension[0].extension[0].valueCoding"}},
		{name: "complex extension sub-extension b of the wrong type", edit: func(m map[string]any) {
			sub := obj(arr(obj(arr(m["extension"])[0])["extension"])[1])
			delete(sub, "valueInteger")
			sub["valueString"] = "3"
		}, want: []string{"structure Patient.extension[0].extension[1].valueString", "required Patient.extension[0].extension[1].valueInteger"}},
		{name: "complex extension with a value", edit: func(m map[string]any) {
			obj(arr(m["extension"])[0])["valueString"] = "x"
		}, want: []string{"structure Patient.extension[0].valueString", "invariant Patient.extension[0]"}},
		{name: "complex extension twice", edit: func(m map[string]any) {
			m["extension"] = append(arr(m["extension"]), arr(m["extension"])[0])
		}, want: []string{"structure Patient.extension"}},

		// Base invariants that compile are checked.
		{name: "dom-2 nested contained", edit: func(m map[string]any) {
			m["contained"] = js(`[{"resourceType":"Organization","id":"o","contained":[{"resourceType":"Organization","id":"n"}]}]`)
		}, want: []string{"invariant Patient"}},
		{name: "ele-1 empty name", edit: func(m map[string]any) { m["name"] = js(`[{}]`) },
			want: []string{"invariant Patient.name[0]"}},
	})
}

const goodScore = `{
  "resourceType": "Observation",
  "status": "final",
  "category": [{"coding": [
    {"system": "http://other.test/cs", "code": "x"},
    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "exam", "display": "Exam"}
  ]}],
  "code": {"coding": [{"system": "https://example.test/CodeSystem/test-codes", "code": "checklist", "display": "Checklist"}], "text": "7pt"},
  "subject": {"reference": "Patient/p1"},
  "valueInteger": 3,
  "interpretation": [{"coding": [{"system": "http://other.test/cs", "code": "y"}, {"system": "https://example.test/CodeSystem/test-codes", "code": "a1"}]}],
  "component": [
    {"code": {"coding": [{"system": "https://example.test/CodeSystem/test-codes", "code": "small"}]}, "valueBoolean": true},
    {"code": {"text": "free text"}, "valueString": "unsliced"},
    {"code": {"coding": [{"system": "https://example.test/CodeSystem/test-codes", "code": "big"}]}, "valueBoolean": true}
  ]
}`

func TestObservationProfile(t *testing.T) {
	s := loadTestSet(t)
	comps := func(m map[string]any) []any { return arr(m["component"]) }
	runCases(t, s, scoreURL, goodScore, []validCase{
		{name: "conforms"},
		{name: "fixed status", edit: func(m map[string]any) { m["status"] = "preliminary" },
			want: []string{"value Observation.status"}},
		{name: "pattern code", edit: func(m map[string]any) {
			m["code"] = js(`{"coding":[{"system":"https://example.test/CodeSystem/test-codes","code":"big"}]}`)
		}, want: []string{"value Observation.code"}},
		{name: "pattern code with the system only", edit: func(m map[string]any) {
			m["code"] = js(`{"coding":[{"system":"https://example.test/CodeSystem/test-codes"}]}`)
		}, want: []string{"value Observation.code"}},
		{name: "pattern on a repeating element, per repeat", edit: func(m map[string]any) {
			m["category"] = append(arr(m["category"]), js(`{"text":"no coding"}`))
		}, want: []string{"value Observation.category[1]"}},
		{name: "choice restricted to integer", edit: func(m map[string]any) {
			delete(m, "valueInteger")
			m["valueString"] = "3"
			// The invariant compares the value with the score: '3' is not 3.
		}, want: []string{"structure Observation.valueString", "invariant Observation"}},
		{name: "reference to a profile in the Set checks its type", edit: func(m map[string]any) {
			m["subject"] = js(`{"reference":"Group/g"}`)
		}, want: []string{"structure Observation.subject"}},
		{name: "CodeableConcept binding: no coding in the value set", edit: func(m map[string]any) {
			m["interpretation"] = js(`[{"coding":[{"system":"http://other.test/cs","code":"y"}]}]`)
		}, want: []string{"code-invalid Observation.interpretation[0]"}},
		{name: "CodeableConcept binding: text only", edit: func(m map[string]any) { m["interpretation"] = js(`[{"text":"high"}]`) },
			want: []string{"code-invalid Observation.interpretation[0]"}},
		{name: "slice missing", edit: func(m map[string]any) { m["component"] = comps(m)[:2] },
			want: []string{"required Observation.component", "invariant Observation"}},
		{name: "slice value missing", edit: func(m map[string]any) {
			delete(obj(comps(m)[2]), "valueBoolean")
			m["valueInteger"] = js(`1`)
		}, want: []string{"required Observation.component[2].valueBoolean"}},
		{name: "slice value of another allowed base type", edit: func(m map[string]any) {
			c := obj(comps(m)[2])
			delete(c, "valueBoolean")
			c["valueInteger"] = js(`1`)
			m["valueInteger"] = js(`1`)
		}, want: []string{"required Observation.component[2].valueBoolean", "structure Observation.component[2].valueInteger"}},
		{name: "invariant on the root", edit: func(m map[string]any) { m["valueInteger"] = js(`2`) },
			want: []string{"invariant Observation"}},
		{name: "invariant with a false feature", edit: func(m map[string]any) {
			obj(comps(m)[0])["valueBoolean"] = false
			m["valueInteger"] = js(`2`)
		}},
		{name: "invariant holds without a score", edit: func(m map[string]any) { delete(m, "valueInteger") }},
	})
}

func TestValidateUnknownProfileAndType(t *testing.T) {
	s := loadTestSet(t)
	doc := decodeDoc(t, goodPatient)
	if got := describe(s.Validate(context.Background(), "https://nowhere.test/sd", doc)); len(got) != 1 || got[0] != "not-supported " {
		t.Errorf("unknown profile: %q", got)
	}
	if got := describe(s.Validate(context.Background(), scoreURL, doc)); len(got) != 1 || got[0] != "structure Patient" {
		t.Errorf("wrong resource type: %q", got)
	}
	if got := s.Validate(context.Background(), patientURL+"|1.0.0", doc); len(got) != 0 {
		t.Errorf("url|version: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := describe(s.Validate(ctx, patientURL, doc)); len(got) != 1 || got[0] != "exception Patient" {
		t.Errorf("cancelled: %q", got)
	}
}

const goodReport = `{
  "resourceType": "DiagnosticReport",
  "status": "amended",
  "code": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
  "effectiveDateTime": "2026-01-02",
  "result": [{"reference": "Observation/a", "display": "A"}, {"reference": "Observation/b"}],
  "conclusionCode": [
    {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]},
    {"coding": [{"system": "https://example.test/CodeSystem/test-codes", "code": "a1"}]}
  ]
}`

func TestReportProfile(t *testing.T) {
	s := loadTestSet(t)
	runCases(t, s, "https://example.test/StructureDefinition/test-report", goodReport, []validCase{
		{name: "conforms"},
		// A ValueSet given as an expansion (nested contains).
		{name: "status not in the expansion", edit: func(m map[string]any) { m["status"] = "preliminary" },
			want: []string{"code-invalid DiagnosticReport.status"}},
		// fixed is exact: an extra display breaks it, where a pattern would not.
		{name: "fixed CodeableConcept with more", edit: func(m map[string]any) {
			m["code"] = js(`{"coding":[{"system":"http://loinc.org","code":"11488-4","display":"Consult note"}]}`)
		}, want: []string{"value DiagnosticReport.code"}},
		{name: "fixed CodeableConcept other code", edit: func(m map[string]any) {
			m["code"] = js(`{"coding":[{"system":"http://loinc.org","code":"11488-5"}]}`)
		}, want: []string{"value DiagnosticReport.code"}},
		// Type slicing on a choice, closed.
		{name: "effective as Period is in no type slice", edit: func(m map[string]any) {
			delete(m, "effectiveDateTime")
			m["effectivePeriod"] = js(`{"start":"2026-01-01"}`)
		}, want: []string{"structure DiagnosticReport.effectivePeriod"}},
		// exists slicing: only results with a display are in the slice (max 1).
		{name: "two described results", edit: func(m map[string]any) {
			obj(arr(m["result"])[1])["display"] = "B"
		}, want: []string{"structure DiagnosticReport.result"}},
		// pattern slicing on coding.system, read from the slice's own pattern.
		{name: "no outcome conclusion code", edit: func(m map[string]any) { m["conclusionCode"] = arr(m["conclusionCode"])[:1] },
			want: []string{"required DiagnosticReport.conclusionCode"}},
		{name: "outcome code not in its value set", edit: func(m map[string]any) {
			m["conclusionCode"] = js(`[{"coding":[{"system":"https://example.test/CodeSystem/test-codes","code":"zz"}]}]`)
		}, want: []string{"code-invalid DiagnosticReport.conclusionCode[0]"}},
	})
}

func TestEqualJSON(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{`1`, `1.0`, true},
		{`1`, `1.5`, false},
		{`1`, `"1"`, false},
		{`"a"`, `"a"`, true},
		{`true`, `true`, true},
		{`true`, `false`, false},
		{`null`, `null`, true},
		{`{"a":[1,{"b":2}]}`, `{"a":[1.0,{"b":2}]}`, true},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"a":1}`, `{"b":1}`, false},
		{`[1]`, `[1,1]`, false},
		{`[1]`, `{"0":1}`, false},
	} {
		if got := equalJSON(js(c.a), js(c.b)); got != c.want {
			t.Errorf("equalJSON(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestHolds(t *testing.T) {
	for _, c := range []struct {
		v, pattern string
		want       bool
	}{
		{`{"coding":[{"system":"s","code":"c","display":"d"}],"text":"t"}`, `{"coding":[{"system":"s","code":"c"}]}`, true},
		{`{"coding":[{"system":"x"},{"system":"s","code":"c"}]}`, `{"coding":[{"system":"s","code":"c"}]}`, true},
		{`{"coding":[{"system":"s"}]}`, `{"coding":[{"system":"s","code":"c"}]}`, false},
		{`{"text":"t"}`, `{"coding":[{"system":"s"}]}`, false},
		{`"a"`, `"a"`, true},
		{`"a"`, `{"a":1}`, false},
		{`2.0`, `2`, true},
	} {
		if got := holds(js(c.v), js(c.pattern)); got != c.want {
			t.Errorf("holds(%s, %s) = %v, want %v", c.v, c.pattern, got, c.want)
		}
	}
}
