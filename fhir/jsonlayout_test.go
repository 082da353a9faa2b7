package fhir

import (
	"bytes"
	"encoding/json"
	"testing"
)

// EncodeResource writes what the codec writes for the same resource.
func TestEncodeResourceMatchesCodec(t *testing.T) {
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		`{"resourceType":"Observation","status":"final","code":{"text":"a <b> & c","coding":[{"system":"http://loinc.org","code":"1-8"}]},"valueQuantity":{"value":1.10,"unit":"mg"},"id":"x"}`,
		`{"resourceType":"Basic","code":{"text":"t"}}`,
	} {
		res, o := c.Parse([]byte(in))
		if o != nil {
			t.Fatal(o.Error())
		}
		want, err := c.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		d := json.NewDecoder(bytes.NewReader(want))
		d.UseNumber()
		var doc map[string]any
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		got, err := EncodeResource(doc)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncodeResource:\n got %s (%v)\nwant %s", got, err, want)
		}
	}
	if _, err := EncodeResource(map[string]any{"id": "x"}); err == nil {
		t.Error("a document without resourceType was encoded")
	}
}
