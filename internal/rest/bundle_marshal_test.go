package rest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestMarshalBundleAsEncodingJSON: the hand-written entries are byte for
// byte what encoding/json (HTML escaping off) writes for the same structs.
func TestMarshalBundleAsEncodingJSON(t *testing.T) {
	total := 2
	res := json.RawMessage(`{"resourceType":"Patient","id":"a","name":[{"text":"<b>&é\"</b>"}]}`)
	outcome := json.RawMessage(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`)
	for _, tc := range []struct {
		name string
		b    bundle
	}{
		{"no entries", bundle{ResourceType: "Bundle", ID: "x", Type: "searchset", Total: &total}},
		{"search", bundle{ResourceType: "Bundle", Type: "searchset", Meta: &bundleMeta{LastUpdated: "2026-01-01T00:00:00.000Z"},
			Link: []bundleLink{{Relation: "self", URL: "http://x/fhir/Patient?a=1&b=<2>"}},
			Entry: []bundleEntry{
				{FullURL: "http://x/fhir/Patient/a", Resource: res, Search: &entrySearch{Mode: "match"}},
				{FullURL: "http://x/fhir/Patient/b", Resource: res, Search: &entrySearch{Mode: "include"}},
			}}},
		{"history and responses", bundle{ResourceType: "Bundle", Type: "transaction-response", Entry: []bundleEntry{
			{Response: &entryResponse{Status: "201 Created", Location: "Patient/a/_history/1", ETag: `W/"1"`, LastModified: "2026-01-01T00:00:00.000Z"}, Resource: res, FullURL: "u"},
			{Response: &entryResponse{Status: "400 Bad Request", Outcome: outcome}},
			{Request: &entryRequest{Method: "DELETE", URL: "Patient/b"}, Response: &entryResponse{Status: "204 No Content"}},
			{},
			{Request: &entryRequest{}},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tc.b); err != nil {
				t.Fatal(err)
			}
			got, err := marshalBundle(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if w := bytes.TrimRight(want.Bytes(), "\n"); !bytes.Equal(got, w) {
				t.Errorf("got\n%s\nwant\n%s", got, w)
			}
		})
	}
}
