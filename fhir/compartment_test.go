package fhir

import (
	"slices"
	"testing"
)

func TestCompartments(t *testing.T) {
	if p, ok := CompartmentParams("Patient", "ServiceRequest"); !ok || !slices.Contains(p, "subject") || !slices.Contains(p, "performer") {
		t.Errorf("Patient/ServiceRequest: %v %v", p, ok)
	}
	if p, ok := CompartmentParams("Patient", "Observation"); !ok || !slices.Contains(p, "subject") {
		t.Errorf("Patient/Observation: %v", p)
	}
	// A Patient is in another Patient's compartment through link; "{def}"
	// (the owner itself) is not a search parameter and is left out.
	if p, _ := CompartmentParams("Patient", "Patient"); !slices.Equal(p, []string{"link"}) {
		t.Errorf("Patient/Patient: %v", p)
	}
	if _, ok := CompartmentParams("Patient", "CodeSystem"); ok {
		t.Error("CodeSystem is not in the Patient compartment")
	}
	types := CompartmentTypes("Patient")
	if len(types) < 60 || !slices.Contains(types, "Media") || !slices.Contains(types, "DiagnosticReport") {
		t.Errorf("Patient compartment: %d types %v", len(types), types)
	}
	if CompartmentTypes("Spaceship") != nil {
		t.Error("unknown compartment type")
	}
}
