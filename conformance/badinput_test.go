package conformance

import (
	"net/http"
	"testing"
)

// TestBadInputWritesNothing sends invalid resources by create and by update
// and checks the status, that the OperationOutcome names the element at
// fault, and that no version was written anywhere.
func TestBadInputWritesNothing(t *testing.T) {
	base := target(t)
	seed := do(t, http.MethodPut, base+"/Patient/bad-input-target", []byte(`{"resourceType":"Patient","id":"bad-input-target","active":true}`))
	if seed.status != http.StatusCreated {
		t.Fatalf("seed: %d %s", seed.status, seed.body)
	}
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		status   int
		code     string
		wantExpr string // "" when the problem has no element (malformed JSON)
	}{
		{"malformed JSON create", "POST", "/Patient", `{"resourceType":"Patient",`, 400, "structure", ""},
		{"malformed JSON update", "PUT", "/Patient/bad-input-target", `{"resourceType":"Patient","id":"bad-input-target",}`, 400, "structure", ""},
		{"wrong resourceType create", "POST", "/Patient", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`, 400, "invalid", "resourceType"},
		{"wrong resourceType update", "PUT", "/Patient/bad-input-target", `{"resourceType":"Organization","id":"bad-input-target"}`, 400, "invalid", "resourceType"},
		{"unknown resourceType in body", "POST", "/Patient", `{"resourceType":"Spaceship"}`, 400, "not-supported", ""},
		{"invalid date create", "POST", "/Patient", `{"resourceType":"Patient","birthDate":"1970-02-30"}`, 400, "value", "Patient.birthDate"},
		{"invalid date update", "PUT", "/Patient/bad-input-target", `{"resourceType":"Patient","id":"bad-input-target","birthDate":"yesterday"}`, 400, "value", "Patient.birthDate"},
		{"unknown element", "POST", "/Patient", `{"resourceType":"Patient","shoeSize":44}`, 400, "structure", "Patient.shoeSize"},
		{"unknown nested element", "PUT", "/Patient/bad-input-target", `{"resourceType":"Patient","id":"bad-input-target","name":[{"family":"X","nickname":"Y"}]}`, 400, "structure", "Patient.name[0].nickname"},
		{"wrong code", "POST", "/Patient", `{"resourceType":"Patient","gender":"f"}`, 400, "code-invalid", "Patient.gender"},
		{"missing required element", "POST", "/Observation", `{"resourceType":"Observation","code":{"text":"x"}}`, 400, "required", "Observation.status"},
		{"id mismatch", "PUT", "/Patient/bad-input-target", `{"resourceType":"Patient","id":"someone-else"}`, 400, "invalid", "Patient.id"},
		{"missing id on update", "PUT", "/Patient/bad-input-target", `{"resourceType":"Patient","active":false}`, 400, "required", "Patient.id"},
		{"invalid id in URL", "PUT", "/Patient/has_underscore", `{"resourceType":"Patient","id":"has_underscore"}`, 400, "value", "Patient.id"},
		{"reference to a disallowed type", "POST", "/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/m1"}}`, 400, "value", "Observation.subject"},
	}
	historyBefore := historyCount(t, base+"/_history?_count=1000")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, base+tt.path, []byte(tt.body))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			o := decodeOutcome(t, r.body)
			if !o.hasIssue(tt.code, tt.wantExpr) {
				t.Errorf("no issue with code %q and expression %q: %s", tt.code, tt.wantExpr, r.body)
			}
		})
	}
	if after := historyCount(t, base+"/_history?_count=1000"); after != historyBefore {
		t.Errorf("system history went from %d to %d entries: bad input was written", historyBefore, after)
	}
	if n := historyCount(t, base+"/Patient/bad-input-target/_history"); n != 1 {
		t.Errorf("target has %d versions, want 1", n)
	}
	if n := historyCount(t, base+"/Patient/has_underscore/_history"); n != 0 {
		t.Errorf("a resource with an invalid id was written")
	}
}

// TestEveryIssueIsReported checks that one invalid resource gets one
// OperationOutcome naming every problem, not just the first.
func TestEveryIssueIsReported(t *testing.T) {
	base := target(t)
	r := do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","birthDate":"1970-13-01","gender":"x","favouriteColour":"blue","name":[{"given":[7]}]}`))
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	o := decodeOutcome(t, r.body)
	for _, want := range []string{"Patient.birthDate", "Patient.gender", "Patient.favouriteColour", "Patient.name[0].given[0]"} {
		if !o.hasIssue("", want) {
			t.Errorf("no issue names %s: %s", want, r.body)
		}
	}
}
