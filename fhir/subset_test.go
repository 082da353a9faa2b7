package fhir

import (
	"strings"
	"testing"
)

func TestSubset(t *testing.T) {
	patient := `{"resourceType":"Patient","id":"p","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"name":[{"family":"A"}],"birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://x","valueString":"y"}]},"photo":[{"title":"p"}],"deceasedBoolean":false}`
	tests := []struct {
		summary       string
		elements      []string
		want, wantNot []string
	}{
		{SummaryTrue, nil, []string{`"name"`, `"birthDate"`, `"_birthDate"`, `"deceasedBoolean"`, "SUBSETTED"}, []string{`"text"`, `"photo"`}},
		{SummaryText, nil, []string{`"text"`, `"id"`, "SUBSETTED"}, []string{`"name"`, `"photo"`}},
		{SummaryData, nil, []string{`"name"`, `"photo"`, "SUBSETTED"}, []string{`"text"`}},
		{"", []string{"birthDate"}, []string{`"birthDate"`, `"_birthDate"`, `"id"`, `"meta"`}, []string{`"name"`, `"text"`}},
	}
	for _, tt := range tests {
		out, err := Subset([]byte(patient), tt.summary, tt.elements)
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		if !strings.HasPrefix(s, `{"resourceType":"Patient",`) {
			t.Errorf("%q: resourceType not first: %s", tt.summary, s)
		}
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("summary %q elements %v: %s missing in %s", tt.summary, tt.elements, w, s)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(s, w) {
				t.Errorf("summary %q elements %v: %s kept in %s", tt.summary, tt.elements, w, s)
			}
		}
	}
	same, _ := Subset([]byte(patient), SummaryFalse, nil)
	if string(same) != patient {
		t.Error("_summary=false changed the resource")
	}
	// Mandatory elements stay: Observation.status and code are 1..1.
	obs, _ := Subset([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"v"}`), "", []string{"valueString"})
	if !strings.Contains(string(obs), `"status"`) || !strings.Contains(string(obs), `"code"`) {
		t.Errorf("mandatory elements dropped: %s", obs)
	}
}
