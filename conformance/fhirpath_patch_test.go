package conformance

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// fhirPathPatch builds a Parameters body from operations, each given as
// its parts' JSON.
func fhirPathPatch(ops ...string) []byte {
	params := make([]string, len(ops))
	for i, op := range ops {
		params[i] = `{"name":"operation","part":[` + op + `]}`
	}
	return []byte(`{"resourceType":"Parameters","parameter":[` + strings.Join(params, ",") + `]}`)
}

func TestFHIRPathPatch(t *testing.T) {
	base := target(t)
	url := base + "/Patient/fhirpath-patch"
	put := do(t, http.MethodPut, url, []byte(`{"resourceType":"Patient","id":"fhirpath-patch","gender":"male",
		"name":[{"family":"Chalmers","given":["Peter"]}],
		"telecom":[{"system":"phone","value":"555-0100"},{"system":"email","value":"pc@example.org"}]}`))
	if put.status != http.StatusCreated {
		t.Fatalf("seed: %d %s", put.status, put.body)
	}
	patch := func(body []byte, h ...string) reply {
		return do(t, http.MethodPatch, url, body, append([]string{"Content-Type", "application/fhir+json"}, h...)...)
	}

	ok := patch(fhirPathPatch(
		`{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"birthDate"},
		 {"name":"value","valueDate":"1974-12-25"}`,
		`{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},{"name":"name","valueString":"identifier"},
		 {"name":"value","part":[{"name":"system","valueUri":"http://example.org/mrn"},{"name":"value","valueString":"12345"}]}`,
		`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.gender"},{"name":"value","valueCode":"female"}`,
		`{"name":"type","valueCode":"insert"},{"name":"path","valueString":"Patient.name[0].given"},{"name":"index","valueInteger":0},
		 {"name":"value","valueString":"Jim"}`,
		`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.telecom.where(system = 'email')"}`,
		`{"name":"type","valueCode":"move"},{"name":"path","valueString":"Patient.name[0].given"},{"name":"source","valueInteger":1},
		 {"name":"destination","valueInteger":0}`,
	), "If-Match", `W/"1"`)
	if ok.status != http.StatusOK || ok.header.Get("ETag") != `W/"2"` {
		t.Fatalf("patch: %d %s %s", ok.status, ok.header.Get("ETag"), ok.body)
	}
	want := object(t, []byte(`{"resourceType":"Patient","id":"fhirpath-patch","gender":"female","birthDate":"1974-12-25",
		"identifier":[{"system":"http://example.org/mrn","value":"12345"}],
		"name":[{"family":"Chalmers","given":["Peter","Jim"]}],
		"telecom":[{"system":"phone","value":"555-0100"}]}`))
	got := do(t, http.MethodGet, url, nil)
	if got.status != http.StatusOK || got.header.Get("ETag") != `W/"2"` {
		t.Fatalf("read: %d %s %s", got.status, got.header.Get("ETag"), got.body)
	}
	if stored := withoutServerMeta(object(t, got.body)); !reflect.DeepEqual(stored, want) {
		t.Errorf("stored %s", got.body)
	}

	checkPatchRejections(t, url, patch, []patchRejection{
		{"replace of nothing names the operation", fhirPathPatch(
			`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Patient.birthDate"}`,
			`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.maritalStatus"},
			 {"name":"value","valueCodeableConcept":{"text":"married"}}`),
			nil, http.StatusUnprocessableEntity, "Parameters.parameter[1].part[1]"},
		{"invalid result", fhirPathPatch(
			`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.gender"},{"name":"value","valueCode":"sometimes"}`),
			nil, http.StatusUnprocessableEntity, "Patient.gender"},
		{"not Parameters", []byte(`{"resourceType":"Patient","id":"fhirpath-patch"}`), nil, http.StatusBadRequest, "Parameters"},
		{"unknown operation type", fhirPathPatch(`{"name":"type","valueCode":"upsert"},{"name":"path","valueString":"Patient"}`),
			nil, http.StatusBadRequest, "Parameters.parameter[0].part[0]"},
		{"stale If-Match", fhirPathPatch(
			`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.gender"},{"name":"value","valueCode":"other"}`),
			[]string{"If-Match", `W/"1"`}, http.StatusPreconditionFailed, ""},
	}, 2)
	if r := do(t, http.MethodPatch, url, []byte(`{}`), "Content-Type", "text/plain"); r.status != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain patch: %d %s", r.status, r.body)
	}
}
