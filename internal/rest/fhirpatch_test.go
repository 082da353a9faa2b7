package rest

import (
	"net/http"
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpatch"
)

func TestR4Element(t *testing.T) {
	tests := []struct {
		path string
		want fhirpatch.ElementInfo
	}{
		{"Patient.identifier", fhirpatch.ElementInfo{Repeats: true}},
		{"Patient.birthDate", fhirpatch.ElementInfo{}},
		{"Patient.birthDate.extension", fhirpatch.ElementInfo{Repeats: true}},
		{"Patient.deceased", fhirpatch.ElementInfo{Choice: true}},
		{"Patient.deceasedBoolean", fhirpatch.ElementInfo{}},
		{"Patient.name.given", fhirpatch.ElementInfo{Repeats: true}},
		{"Patient.contact", fhirpatch.ElementInfo{Repeats: true}},
		{"Patient.contact.name", fhirpatch.ElementInfo{}},
		{"Patient.contact.telecom", fhirpatch.ElementInfo{Repeats: true}},
		{"Patient.extension.value", fhirpatch.ElementInfo{Choice: true}},
		{"Observation.valueQuantity.unit", fhirpatch.ElementInfo{}},
		{"Observation.valueCodeableConcept.coding", fhirpatch.ElementInfo{Repeats: true}},
		{"Encounter.class", fhirpatch.ElementInfo{}}, // "class_value" in the protos
		{"Patient.nonsense", fhirpatch.ElementInfo{}},
		{"NoSuchType.identifier", fhirpatch.ElementInfo{}},
		{"Patient", fhirpatch.ElementInfo{}},
	}
	for _, tt := range tests {
		if got := r4Element(tt.path); got != tt.want {
			t.Errorf("r4Element(%q) = %+v, want %+v", tt.path, got, tt.want)
		}
	}
}

func TestApplyFHIRPathPatch(t *testing.T) {
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	cur := []byte(`{"resourceType":"Patient","id":"p","gender":"male"}`)
	operation := func(parts string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `]}]}`
	}
	tests := []struct {
		name, params string
		status       int // 0: applies
		code, expr   string
	}{
		{"a valid R4 result", operation(`{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},
			{"name":"name","valueString":"contact"},{"name":"value","part":[{"name":"telecom","valueContactPoint":{"system":"phone","value":"1"}}]}`),
			0, "", ""},
		{"not Parameters", `{"resourceType":"Patient"}`, http.StatusBadRequest, fhir.CodeStructure, "Parameters"},
		{"malformed operation", operation(`{"name":"type","valueCode":"upsert"}`), http.StatusBadRequest, fhir.CodeStructure,
			"Parameters.parameter[0].part[0]"},
		{"fails on this resource", operation(`{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.birthDate"},
			{"name":"value","valueDate":"2000-01-01"}`), http.StatusUnprocessableEntity, fhir.CodeProcessing, "Parameters.parameter[0].part[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			patched, resp, ok := applyFHIRPathPatch("Patient", cur, []byte(tt.params))
			if tt.status == 0 {
				if !ok {
					t.Fatalf("failed: %d %s", resp.Status, resp.Body)
				}
				if _, o := codec.Parse(patched); o != nil {
					t.Errorf("result %s does not parse: %s", patched, o.JSON())
				}
				return
			}
			if ok || resp.Status != tt.status || resp.Outcome == nil {
				t.Fatalf("got ok=%v %d %s, want %d", ok, resp.Status, resp.Body, tt.status)
			}
			is := resp.Outcome.Issue[0]
			if is.Code != tt.code || !slices.Contains(is.Expression, tt.expr) {
				t.Errorf("issue %+v, want code %s naming %s", is, tt.code, tt.expr)
			}
		})
	}
	if _, resp, ok := applyFHIRPathPatch("Patient", []byte(`not json`), []byte(operation(`{"name":"type","valueCode":"delete"},
		{"name":"path","valueString":"Patient.gender"}`))); ok || resp.Status != http.StatusInternalServerError {
		t.Errorf("bad stored body: %v %d", ok, resp.Status)
	}
}
