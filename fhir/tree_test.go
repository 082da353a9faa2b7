package fhir

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/sharedspec"
	"github.com/telederm/telederm/internal/synth"
)

// treeRoundTrip parses data with ParseTree, stamps it as a write does and
// returns what Marshal writes, whether the tree was kept, and what the
// protocol buffer path writes.
func treeRoundTrip(t *testing.T, c *Codec, data []byte) (out []byte, kept bool, proto []byte, o *Outcome) {
	t.Helper()
	stamp := func(r *Resource) {
		r.SetID("new-id")
		r.SetMeta("7", time.Date(2026, 11, 27, 14, 5, 6, 789123456, time.UTC))
	}
	r, o := c.ParseTree(data, nil)
	if o != nil {
		return nil, false, nil, o
	}
	stamp(r)
	out, err := c.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	// The marshaller changes some messages as it writes them (a Base64
	// separator), so the protocol buffer path gets a parse of its own.
	p, _ := c.Parse(data)
	stamp(p)
	if proto, err = c.marshalProto(p); err != nil {
		t.Fatal(err)
	}
	return out, r.Tree() != nil, proto, nil
}

// Input the marshaller writes back differently keeps no tree; any other
// keeps it, and the tree is written exactly as the protocol buffer is.
func TestParseTree(t *testing.T) {
	c := newTestCodec(t)
	tests := []struct {
		name string
		in   string
		kept bool
	}{
		{"plain", `{"resourceType":"Patient","gender":"male","birthDate":"2020-01","name":[{"given":["A"]}]}`, true},
		{"meta kept", `{"resourceType":"Patient","meta":{"versionId":"1","profile":["http://x/p"]}}`, true},
		{"decimal text", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50E+2}}`, true},
		{"milliseconds", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T10:00:00.123+01:00"}`, true},
		{"microseconds", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2020-01-01T10:00:00.123456Z"}`, true},
		{"no fraction", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":"10:00:00"}`, true},
		{"primitive extension", `{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x","valueString":"y"}]}]}]}`, false},
		{"contained", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","name":"n"}],"managingOrganization":{"reference":"#o"}}`, true},
		{"escapes", `{"resourceType":"Patient","telecom":[{"system":"phone","value":"\u2028<&>\u00e9"}]}`, true},
		{"one fraction digit", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T10:00:00.1Z"}`, false},
		{"eight fraction digits", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2020-01-01T10:00:00.12345678Z"}`, false},
		{"time fraction", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":"10:00:00.5"}`, false},
		{"minus zero offset", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2020-01-01T10:00:00-00:00"}`, false},
		{"minus zero", `{"resourceType":"Patient","multipleBirthInteger":-0}`, false},
		{"null member", `{"resourceType":"Patient","gender":null}`, false},
		{"empty array", `{"resourceType":"Patient","extension":[]}`, false},
		{"nested empty array", `{"resourceType":"Patient","meta":{"tag":[]}}`, false},
		{"null in array", `{"resourceType":"Patient","name":[null]}`, false},
		{"Parameters", `{"resourceType":"Parameters","parameter":[{"name":"r","resource":{"resourceType":"Patient","gender":"male"}}]}`, false},
		{"Bundle", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":"male"}}]}`, false},
		{"Binary", `{"resourceType":"Binary","contentType":"text/plain","data":"aGVsbG8="}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, kept, proto, o := treeRoundTrip(t, c, []byte(tt.in))
			if o != nil {
				t.Fatalf("rejected: %s", o.Error())
			}
			if kept != tt.kept {
				t.Errorf("tree kept = %v, want %v", kept, tt.kept)
			}
			if string(out) != string(proto) {
				t.Errorf("Marshal wrote\n %s\nthe protocol buffer path writes\n %s", out, proto)
			}
		})
	}
}

// Every official example and every synthetic ingest resource: Marshal
// writes the same bytes with or without the tree.
func TestParseTreeExamples(t *testing.T) {
	c := newTestCodec(t)
	var bodies [][]byte
	for _, ex := range sharedspec.Examples(t) {
		bodies = append(bodies, ex.Body)
	}
	g := synth.New(2026)
	for range 20 {
		for _, kind := range synth.Kinds() {
			var b struct {
				Entry []struct {
					Resource json.RawMessage `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(g.IngestBundle(kind), &b); err != nil {
				t.Fatal(err)
			}
			for _, e := range b.Entry {
				bodies = append(bodies, e.Resource)
			}
		}
	}
	kept, checked := 0, 0
	for _, body := range bodies {
		out, k, proto, o := treeRoundTrip(t, c, body)
		if o != nil {
			continue // the known-invalid examples; TestOfficialExamples checks them
		}
		checked++
		if k {
			kept++
		}
		if string(out) != string(proto) {
			t.Errorf("Marshal wrote\n %.500s\nthe protocol buffer path writes\n %.500s", out, proto)
		}
	}
	t.Logf("%d resources: %d written from their tree, all identical to the protocol buffer path", checked, kept)
	if kept < checked/2 {
		t.Errorf("only %d of %d resources kept their tree", kept, checked)
	}
}
