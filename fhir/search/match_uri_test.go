package search

import "testing"

func TestMatchURI(t *testing.T) {
	u := func(s string) []Entry { return []Entry{{Param: "url", Kind: URI, URL: s}} }
	runMatchCases(t, "ValueSet", []matchCase{
		{"url=http://acme.org/fhir/ValueSet/123", u("http://acme.org/fhir/ValueSet/123"), true},
		{"url=http://acme.org/fhir/ValueSet/123", u("http://acme.org/fhir/ValueSet/1234"), false},
		{"url=http://acme.org/fhir/ValueSet/123", u("HTTP://acme.org/fhir/ValueSet/123"), false}, // exact
		{"url=urn:oid:1.2.3.4.5", u("urn:oid:1.2.3.4.5"), true},
		// :below: the value is a prefix of the target
		{"url:below=http://acme.org/fhir/", u("http://acme.org/fhir/ValueSet/123"), true},
		{"url:below=http://acme.org/fhir/", u("http://acme.org/other"), false},
		// :above: the target is a prefix of the value
		{"url:above=http://acme.org/fhir/ValueSet/123/_history/5", u("http://acme.org/fhir/ValueSet/123"), true},
		{"url:above=http://acme.org/fhir/ValueSet/123/_history/5", u("http://acme.org/fhir/"), true},
		{"url:above=http://acme.org/fhir/ValueSet/123/_history/5", u("http://acme.org/fhir/ValueSet/999"), false},
	})
}
