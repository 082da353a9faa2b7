package fhir

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParametersWithResources(t *testing.T) {
	c := newTestCodec(t)
	in := `{"resourceType":"Parameters","id":"p","parameter":[{"name":"resource","resource":{"resourceType":"Patient","id":"x","birthDate":"1970-01-01","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">a &amp; b</div>"}}},{"name":"mode","valueCode":"create"},{"name":"nested","part":[{"name":"obs","resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"valueQuantity":{"value":1.50}}}]}]}`
	r, o := c.Parse([]byte(in))
	if o != nil {
		t.Fatalf("Parse: %s", o.JSON())
	}
	r.SetMeta("1", time.Now())
	out, err := c.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeNumbers(t, out).(map[string]any)
	delete(got, "meta")
	if !jsonEqual(t, []byte(in), mustJSON(t, got)) {
		t.Errorf("round trip changed it\n in: %s\nout: %s", in, out)
	}

	_, o = c.Parse([]byte(`{"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":"b","resource":{"resourceType":"Patient","birthDate":"1970-13-01"}}]}]}`))
	if o == nil || !outcomeNames(o, "Parameters.parameter[0].part[0].resource.birthDate") {
		t.Errorf("nested invalid resource not reported with its path: %v", o)
	}
	_, o = c.Parse([]byte(`{"resourceType":"Parameters","parameter":[{"name":"a","resource":{"resourceType":"Patient"}}],"bogus":1}`))
	if o == nil || !outcomeNames(o, "Parameters.bogus") {
		t.Errorf("outer problem not reported: %v", o)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
