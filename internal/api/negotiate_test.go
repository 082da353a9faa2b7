package api

import (
	"net/http/httptest"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		url, accept string
		ok, fhir    bool
		contentType string
	}{
		{"/Patient/1", "", true, false, mimeFHIRJSON},
		{"/Patient/1", "*/*", true, false, mimeFHIRJSON},
		{"/Patient/1", "application/fhir+json", true, true, mimeFHIRJSON},
		{"/Patient/1", "application/fhir+json; fhirVersion=4.0", true, true, mimeFHIRJSON},
		{"/Patient/1", "application/json", true, true, mimeJSON},
		{"/Patient/1", "application/fhir+xml;q=0.9, application/fhir+json", true, true, mimeFHIRJSON},
		{"/Patient/1", "application/fhir+xml", false, false, mimeFHIRJSON},
		{"/Patient/1", "application/xml, text/xml", false, false, mimeFHIRJSON},
		{"/Patient/1", "application/fhir+json;q=0, application/xml", false, false, mimeFHIRJSON},
		{"/Binary/1", "image/png", true, false, mimeFHIRJSON},
		{"/Patient/1?_format=json", "application/fhir+xml", true, true, mimeFHIRJSON},
		{"/Patient/1?_format=application/json", "", true, true, mimeJSON},
		{"/Patient/1?_format=xml", "", false, false, mimeFHIRJSON},
		{"/Patient/1?_format=turtle", "", false, false, mimeFHIRJSON},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		f, ok := negotiate(r)
		if ok != tt.ok || (ok && (f.fhir != tt.fhir || f.contentType != tt.contentType)) {
			t.Errorf("%s Accept %q: got ok=%v fhir=%v %s, want ok=%v fhir=%v %s", tt.url, tt.accept, ok, f.fhir, f.contentType, tt.ok, tt.fhir, tt.contentType)
		}
	}
}

func TestRequestBodyKind(t *testing.T) {
	tests := []struct {
		ct   string
		want bodyKind
	}{
		{"", bodyFHIRJSON},
		{"application/fhir+json", bodyFHIRJSON},
		{"application/fhir+json; charset=utf-8", bodyFHIRJSON},
		{"application/json", bodyFHIRJSON},
		{"application/json-patch+json", bodyJSONPatch},
		{"application/fhir+xml", bodyXML},
		{"text/xml", bodyXML},
		{"image/jpeg", bodyOther},
		{"not a type;;", bodyOther},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/Patient", nil)
		if tt.ct != "" {
			r.Header.Set("Content-Type", tt.ct)
		}
		if got, _ := requestBodyKind(r); got != tt.want {
			t.Errorf("%q: got %d want %d", tt.ct, got, tt.want)
		}
	}
}

func TestPreferReturn(t *testing.T) {
	tests := map[string]string{
		"":                      "",
		"return=minimal":        "minimal",
		"return=representation": "representation",
		"handling=strict, return=OperationOutcome": "OperationOutcome",
		`return="minimal"`:                         "minimal",
		"respond-async":                            "",
	}
	for h, want := range tests {
		r := httptest.NewRequest("POST", "/Patient", nil)
		if h != "" {
			r.Header.Set("Prefer", h)
		}
		if got := preferReturn(r); got != want {
			t.Errorf("Prefer %q: got %q want %q", h, got, want)
		}
	}
}

func TestNegotiateCSV(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want bool
	}{
		{"/ServiceRequest/$stats?_format=csv", true},
		{"/ServiceRequest/$stats?_format=text/csv", true},
		{"/ServiceRequest/$stats?_format=json", false},
		{"/ServiceRequest/$stats", false},
	} {
		f, ok := negotiate(httptest.NewRequest("GET", tt.url, nil))
		if !ok || f.csv != tt.want {
			t.Errorf("%s: ok=%v csv=%v, want csv=%v", tt.url, ok, f.csv, tt.want)
		}
	}
}
