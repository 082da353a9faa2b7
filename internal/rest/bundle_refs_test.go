package rest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir/jsontree"
)

func TestRewriteReferences(t *testing.T) {
	ids := identities{
		"urn:uuid:11111111-1111-4111-8111-111111111111": "Patient/p1",
		"urn:oid:1.2.3.4":                               "Organization/o1",
		"http://example.org/fhir/Practitioner/abc":      "Practitioner/new-pr",
		"urn:uuid:22222222-2222-4222-8222-222222222222": "Binary/b1",
	}
	tests := []struct {
		name, fullURL, in, want string
	}{
		{"reference by urn:uuid", "urn:uuid:x",
			`{"resourceType":"Observation","subject":{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}}`,
			`{"resourceType":"Observation","subject":{"reference":"Patient/p1"}}`},
		{"reference by urn:oid inside an extension", "",
			`{"resourceType":"Patient","extension":[{"url":"x","valueReference":{"reference":"urn:oid:1.2.3.4"}}]}`,
			`{"resourceType":"Patient","extension":[{"url":"x","valueReference":{"reference":"Organization/o1"}}]}`},
		{"inside a contained resource", "",
			`{"resourceType":"MedicationStatement","contained":[{"resourceType":"Provenance","id":"p","target":[{"reference":"urn:uuid:11111111-1111-4111-8111-111111111111"}]}]}`,
			`{"resourceType":"MedicationStatement","contained":[{"resourceType":"Provenance","id":"p","target":[{"reference":"Patient/p1"}]}]}`},
		{"an attachment url", "",
			`{"resourceType":"Media","content":{"url":"urn:uuid:22222222-2222-4222-8222-222222222222"}}`,
			`{"resourceType":"Media","content":{"url":"Binary/b1"}}`},
		{"a narrative link", "",
			`{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"urn:uuid:11111111-1111-4111-8111-111111111111\">p</a></div>"}}`,
			`{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><a href=\"Patient/p1\">p</a></div>"}}`},
		{"absolute reference to an entry", "",
			`{"resourceType":"Encounter","participant":[{"individual":{"reference":"http://example.org/fhir/Practitioner/abc"}}]}`,
			`{"resourceType":"Encounter","participant":[{"individual":{"reference":"Practitioner/new-pr"}}]}`},
		{"relative reference under an absolute fullUrl", "http://example.org/fhir/Encounter/e9",
			`{"resourceType":"Encounter","participant":[{"individual":{"reference":"Practitioner/abc"}}]}`,
			`{"resourceType":"Encounter","participant":[{"individual":{"reference":"Practitioner/new-pr"}}]}`},
		{"other references and decimals untouched", "urn:uuid:y",
			`{"resourceType":"Observation","subject":{"reference":"Patient/other"},"focus":[{"reference":"#c1"}],"valueQuantity":{"value":1.50}}`,
			`{"resourceType":"Observation","subject":{"reference":"Patient/other"},"focus":[{"reference":"#c1"}],"valueQuantity":{"value":1.50}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &refRewriter{ids: ids, resolved: map[string]string{}}
			got, doc, err := w.rewrite(json.RawMessage(tc.in), tc.fullURL)
			if err != nil {
				t.Fatalf("rewrite: %+v", err)
			}
			// The tree handed on to the parser is the JSON handed on.
			if doc != nil {
				if enc, err := jsontree.Encode(doc); err != nil || string(enc) != string(got) {
					t.Errorf("tree %s (%v), JSON %s", enc, err, got)
				}
			}
			if !sameJSON(t, got, []byte(tc.want)) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if strings.Contains(tc.in, "1.50") && !strings.Contains(string(got), ":1.50") {
				t.Errorf("the decimal lost its digits: %s", got)
			}
		})
	}
}

func TestRewriteUnresolvedURN(t *testing.T) {
	w := &refRewriter{ids: identities{}, resolved: map[string]string{}}
	_, _, err := w.rewrite(json.RawMessage(`{"resourceType":"Observation","performer":[{"display":"x"},{"reference":"urn:uuid:33333333-3333-4333-8333-333333333333"}]}`), "")
	if err == nil {
		t.Fatal("an unresolved urn:uuid reference was accepted")
	}
	if got := refPath(err.path); got != ".performer[1].reference" {
		t.Errorf("path %q, want .performer[1].reference", got)
	}
	if err.resp.Status != http.StatusBadRequest {
		t.Errorf("status %d, want 400", err.resp.Status)
	}
}

func TestFullURLBase(t *testing.T) {
	tests := []struct{ in, base, identity string }{
		{"http://example.org/fhir/Patient/123", "http://example.org/fhir/", "Patient/123"},
		{"https://x.nhs.uk/Patient/1/_history/2", "https://x.nhs.uk/", "Patient/1"},
		{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "", ""},
		{"http://example.org/fhir/Unknown/1", "http://example.org/fhir/", ""},
	}
	for _, tc := range tests {
		if got := fullURLBase(tc.in); got != tc.base {
			t.Errorf("fullURLBase(%q) = %q, want %q", tc.in, got, tc.base)
		}
		got, ok := fullURLIdentity(tc.in)
		if got != tc.identity || ok != (tc.identity != "") {
			t.Errorf("fullURLIdentity(%q) = %q, %v; want %q", tc.in, got, ok, tc.identity)
		}
	}
}

func TestProcessingOrder(t *testing.T) {
	entries := []inEntry{{method: "GET"}, {method: "PUT"}, {method: "POST"}, {method: "DELETE"}, {method: "PATCH"}, {method: "POST"}, {method: "HEAD"}}
	if got, want := processingOrder(entries), []int{3, 2, 5, 1, 4, 0, 6}; !reflect.DeepEqual(got, want) {
		t.Errorf("order %v, want %v (DELETE, POST, PUT/PATCH, GET/HEAD; request order within)", got, want)
	}
}

func TestReroot(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"Patient", "Bundle.entry[2].resource"},
		{"Patient.name[0].given[1]", "Bundle.entry[2].resource.name[0].given[1]"},
		{"gender", "Bundle.entry[2].resource.gender"},
	}
	for _, tc := range tests {
		if got := reroot(tc.expr, "Patient", "Bundle.entry[2].resource"); got != tc.want {
			t.Errorf("reroot(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return reflect.DeepEqual(x, y)
}
