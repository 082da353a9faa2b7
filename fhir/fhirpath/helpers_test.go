package fhirpath

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// decode reads JSON the way the server does (UseNumber).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// show renders a result compactly: "Type:value" per node, values as JSON.
func show(nodes []Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		b, _ := json.Marshal(n.Value)
		parts[i] = fmt.Sprintf("%s:%s", n.Type, b)
	}
	return strings.Join(parts, " ")
}

const patientJSON = `{
  "resourceType": "Patient",
  "id": "p1",
  "meta": {"lastUpdated": "2024-01-02T03:04:05Z", "profile": ["http://x/p1", "http://x/p2"]},
  "contained": [{"resourceType": "Practitioner", "id": "gp"}],
  "extension": [
    {"url": "http://x/ext/a", "valueString": "A"},
    {"url": "http://x/ext/b", "valueCode": "B"}
  ],
  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
  "active": true,
  "name": [
    {"use": "official", "family": "O'Brien", "given": ["Zoë", "Ann"]},
    {"use": "nickname", "given": ["Zo"]}
  ],
  "telecom": [
    {"system": "phone", "value": "0123"},
    {"system": "email", "value": "z@example.org"}
  ],
  "birthDate": "1970-03-04",
  "_birthDate": {"extension": [{"url": "http://x/time", "valueDateTime": "1970-03-04T10:00:00Z"}]},
  "deceasedDateTime": "2020-01-01",
  "multipleBirthInteger": 2,
  "generalPractitioner": [
    {"reference": "Practitioner/gp1"},
    {"reference": "https://other.example/fhir/Organization/o1/_history/3"},
    {"reference": "#gp"},
    {"reference": "urn:uuid:1c2d"},
    {"type": "Practitioner", "identifier": {"value": "G123"}}
  ]
}`
