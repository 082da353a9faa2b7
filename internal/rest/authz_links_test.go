package rest

import (
	"fmt"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// TestCompartmentLinksAgreeWithTheIndex: the compartment test of a stored
// resource reads its references as the search index does, so a
// patient-confined read admits what a confined search finds.
func TestCompartmentLinksAgreeWithTheIndex(t *testing.T) {
	s := newOpsService(t)
	tests := []struct {
		name, subject string // the Observation's subject Reference (JSON)
		in            bool
	}{
		{"relative", `{"reference":"Patient/p1"}`, true},
		{"versioned", `{"reference":"Patient/p1/_history/2"}`, true},
		{"absolute under the base", `{"reference":"` + opsBase + `/Patient/p1"}`, true},
		{"absolute, other case", `{"reference":"HTTP://FHIR.TEST/Patient/p1"}`, true},
		{"absolute, by https", `{"reference":"https://fhir.test/Patient/p1"}`, true},
		{"absolute, other path", `{"reference":"http://fhir.test/other/Patient/p1"}`, false},
		{"bare id typed", `{"reference":"p1","type":"Patient"}`, true},
		{"another patient", `{"reference":"Patient/p2"}`, false},
		{"another server", `{"reference":"http://elsewhere.test/Patient/p1"}`, false},
		{"another type", `{"reference":"Group/p1"}`, false},
		{"contained", `{"reference":"#p1"}`, false},
		{"bad version", `{"reference":"Patient/p1/_history/"}`, false},
		{"extra segment", `{"reference":"Patient/p1/x"}`, false},
		{"bare id untyped", `{"reference":"p1"}`, false},
		{"identifier only", `{"identifier":{"system":"urn:x","value":"p1"}}`, false},
	}
	links, _ := fhir.CompartmentParams("Patient", "Observation")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(fmt.Sprintf(`{"resourceType":"Observation","id":"x","status":"final","code":{"text":"x"},"subject":%s}`, tt.subject))
			got, err := s.inCompartment(t.Context(), "p1", &subject{typ: "Observation", id: "x", body: body}, nil, true)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.in {
				t.Errorf("in the compartment: %v, want %v", got, tt.in)
			}
			es, err := s.indexEntries("Observation", body)
			if err != nil {
				t.Fatal(err)
			}
			if indexed := refersTo(es, links, "Patient", "p1"); indexed != got {
				t.Errorf("the search index says %v, the compartment test %v", indexed, got)
			}
		})
	}
	// performer is a compartment parameter of Observation too; focus is not.
	for body, want := range map[string]bool{
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"performer":[{"reference":"Patient/p1"}]}`: true,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"focus":[{"reference":"Patient/p1"}]}`:     false,
	} {
		got, err := s.inCompartment(t.Context(), "p1", &subject{typ: "Observation", id: "x", body: []byte(body)}, nil, true)
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", body, got, err, want)
		}
	}
}
