package fhir

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func newTestCodec(t testing.TB) *Codec {
	t.Helper()
	c, err := NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseRejectsWithElementPaths(t *testing.T) {
	c := newTestCodec(t)
	tests := []struct {
		name     string
		in       string
		wantCode string
		wantExpr string // "" means the issue has no expression
	}{
		{"malformed JSON", `{"resourceType":"Patient",}`, CodeStructure, ""},
		{"not an object", `[1,2]`, CodeStructure, ""},
		{"empty body", ``, CodeStructure, ""},
		{"unknown resource type", `{"resourceType":"Spaceship"}`, CodeNotSupported, ""},
		{"invalid date", `{"resourceType":"Patient","birthDate":"2020-13-45"}`, CodeValue, "Patient.birthDate"},
		{"unknown element", `{"resourceType":"Patient","favouriteColour":"blue"}`, CodeStructure, "Patient.favouriteColour"},
		{"wrong code", `{"resourceType":"Patient","gender":"unknown-ish"}`, CodeCodeInvalid, "Patient.gender"},
		{"wrong primitive type", `{"resourceType":"Patient","name":[{"given":[1]}]}`, CodeValue, "Patient.name[0].given[0]"},
		{"missing required", `{"resourceType":"Observation","code":{"text":"x"}}`, CodeRequired, "Observation.status"},
		{"missing required nested", `{"resourceType":"Questionnaire","status":"draft","item":[{"type":"string"}]}`, CodeRequired, "Questionnaire.item[0].linkId"},
		{"reference to a type not allowed", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/1"}}`, CodeValue, "Observation.subject"},
		{"bad id", `{"resourceType":"Patient","id":"has space"}`, CodeValue, "Patient.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, o := c.Parse([]byte(tt.in))
			if r != nil || o == nil {
				t.Fatalf("Parse accepted %s", tt.in)
			}
			if !o.HasErrors() {
				t.Fatalf("outcome has no error issue: %s", o.JSON())
			}
			for _, is := range o.Issue {
				if is.Code != tt.wantCode {
					continue
				}
				if tt.wantExpr == "" && len(is.Expression) == 0 {
					return
				}
				if len(is.Expression) == 1 && is.Expression[0] == tt.wantExpr {
					return
				}
			}
			t.Errorf("no issue with code %q and expression %q in %s", tt.wantCode, tt.wantExpr, o.JSON())
		})
	}
}

func TestParseReportsEveryIssue(t *testing.T) {
	c := newTestCodec(t)
	_, o := c.Parse([]byte(`{"resourceType":"Patient","birthDate":"2020-13-45","foo":1,"gender":"blah"}`))
	got := map[string]bool{}
	for _, is := range o.Issue {
		for _, e := range is.Expression {
			got[e] = true
		}
	}
	for _, want := range []string{"Patient.birthDate", "Patient.foo", "Patient.gender"} {
		if !got[want] {
			t.Errorf("missing issue for %s in %s", want, o.JSON())
		}
	}
}

// TestRoundTrip checks that what the parser accepts comes back as the same
// JSON value: decimal precision, unicode, extensions on primitives and
// contained resources survive.
func TestRoundTrip(t *testing.T) {
	c := newTestCodec(t)
	tests := []struct{ name, in string }{
		{"decimal precision", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.10,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}`},
		{"large and tiny decimals", `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"component":[{"code":{"text":"a"},"valueQuantity":{"value":12345678901234567890.000}},{"code":{"text":"b"},"valueQuantity":{"value":0.000000001}}]}`},
		{"unicode", `{"resourceType":"Patient","id":"p1","name":[{"family":"Ó Briain-Łukasz 山田","given":["Zoë"]}]}`},
		{"primitive extension", `{"resourceType":"Patient","id":"p2","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1970-01-01T10:30:00+01:00"}]}}`},
		{"primitive extension in array", `{"resourceType":"Patient","id":"p3","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://example.org/x","valueString":"only ext"}]}]}]}`},
		{"modifier extension", `{"resourceType":"Patient","id":"p4","modifierExtension":[{"url":"http://example.org/m","valueBoolean":true}]}`},
		{"contained", `{"resourceType":"Observation","id":"o3","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"pc","name":[{"family":"C"}]}],"subject":{"reference":"#pc"}}`},
		{"narrative", `{"resourceType":"Patient","id":"p5","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Jane &amp; co</p></div>"}}`},
		{"datetime with offset", `{"resourceType":"Observation","id":"o4","status":"final","code":{"text":"x"},"effectiveDateTime":"2021-03-04T05:06:07.123+05:30"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, o := c.Parse([]byte(tt.in))
			if o != nil {
				t.Fatalf("Parse: %s", o.JSON())
			}
			out, err := c.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, []byte(tt.in), out) {
				t.Errorf("round trip changed the resource\n in: %s\nout: %s", tt.in, out)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(decodeNumbers(t, a), decodeNumbers(t, b))
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestSetMetaKeepsClientMeta(t *testing.T) {
	c := newTestCodec(t)
	r, o := c.Parse([]byte(`{"resourceType":"Patient","id":"x","meta":{"versionId":"99","lastUpdated":"2000-01-01T00:00:00Z","profile":["http://example.org/p"],"tag":[{"system":"http://example.org/t","code":"a"}]}}`))
	if o != nil {
		t.Fatal(o)
	}
	r.SetID("new-id")
	r.SetMeta("3", time.Date(2026, 11, 26, 10, 11, 12, 345678901, time.UTC))
	out, err := c.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID   string `json:"id"`
		Meta struct {
			VersionID   string            `json:"versionId"`
			LastUpdated string            `json:"lastUpdated"`
			Profile     []string          `json:"profile"`
			Tag         []json.RawMessage `json:"tag"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "new-id" || got.Meta.VersionID != "3" || got.Meta.LastUpdated != "2026-11-26T10:11:12.345Z" {
		t.Errorf("id/meta not set: %s", out)
	}
	if len(got.Meta.Profile) != 1 || len(got.Meta.Tag) != 1 {
		t.Errorf("client meta lost: %s", out)
	}
}

func TestTakeBinaryData(t *testing.T) {
	c := newTestCodec(t)
	r, o := c.Parse([]byte(`{"resourceType":"Binary","id":"b","contentType":"image/png","data":"aGVsbG8="}`))
	if o != nil {
		t.Fatal(o)
	}
	data, ct, ok := r.TakeBinaryData()
	if !ok || string(data) != "hello" || ct != "image/png" {
		t.Fatalf("TakeBinaryData = %q %q %v", data, ct, ok)
	}
	out, _ := c.Marshal(r)
	if strings.Contains(string(out), "data") {
		t.Errorf("data still in %s", out)
	}
	p, _ := c.Parse([]byte(`{"resourceType":"Patient"}`))
	if _, _, ok := p.TakeBinaryData(); ok {
		t.Error("TakeBinaryData on a Patient")
	}
}

func TestResourceTypes(t *testing.T) {
	types := ResourceTypes()
	if len(types) < 145 {
		t.Fatalf("only %d resource types", len(types))
	}
	for _, want := range []string{"Patient", "ServiceRequest", "Media", "DiagnosticReport", "Binary", "Bundle", "Subscription"} {
		if !IsResourceType(want) {
			t.Errorf("%s missing", want)
		}
	}
	for _, not := range []string{"", "patient", "Resource", "DomainResource", "HumanName"} {
		if IsResourceType(not) {
			t.Errorf("%q taken for a resource type", not)
		}
	}
}

const benchPatient = `{"resourceType":"Patient","id":"p","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"use":"official","family":"Smith","given":["Jane","Ann"]}],"gender":"female","birthDate":"1970-01-02","address":[{"line":["1 High St"],"city":"Ipswich","postalCode":"IP1 1AA"}],"telecom":[{"system":"phone","value":"01234 567890"}],"generalPractitioner":[{"reference":"Organization/gp1"}]}`

func BenchmarkParseValidate(b *testing.B) {
	c := newTestCodec(b)
	in := []byte(benchPatient)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, o := c.Parse(in); o != nil {
			b.Fatal(o)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	c := newTestCodec(b)
	r, o := c.Parse([]byte(benchPatient))
	if o != nil {
		b.Fatal(o)
	}
	for b.Loop() {
		if _, err := c.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMarshalPutsResourceTypeFirst(t *testing.T) {
	c := newTestCodec(t)
	for _, in := range []string{
		`{"resourceType":"Patient","id":"a","active":true}`,
		`{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"c"}],"subject":{"reference":"#c"}}`,
		`{"resourceType":"Bundle","id":"b","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"x"}}]}`,
		`{"resourceType":"Basic","code":{"text":"\"resourceType\":\"Evil\""}}`,
	} {
		r, o := c.Parse([]byte(in))
		if o != nil {
			t.Fatal(o)
		}
		out, err := c.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte(`{"resourceType":"`+r.Type()+`",`)) {
			t.Errorf("resourceType not first: %s", out)
		}
		if !jsonEqual(t, []byte(in), out) {
			t.Errorf("content changed\n in: %s\nout: %s", in, out)
		}
	}
}
