package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/server"
)

func TestCapabilityStatement(t *testing.T) {
	base := target(t)
	r := do(t, http.MethodGet, base+"/metadata", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /metadata: %d", r.status)
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	if _, o := codec.Parse(r.body); o != nil {
		t.Fatalf("the CapabilityStatement is not valid R4: %s", o.Error())
	}
	var cs struct {
		ResourceType, FhirVersion, Kind string
		Format                          []string
		Rest                            []struct {
			Mode     string
			Resource []struct {
				Type                      string
				Versioning                string
				ReadHistory, UpdateCreate bool
				Interaction               []struct{ Code string }
			}
		}
	}
	if err := json.Unmarshal(r.body, &cs); err != nil {
		t.Fatal(err)
	}
	if cs.ResourceType != "CapabilityStatement" || cs.FhirVersion != "4.0.1" || len(cs.Rest) != 1 {
		t.Fatalf("unexpected statement: %.300s", r.body)
	}
	types := map[string]bool{}
	for _, res := range cs.Rest[0].Resource {
		types[res.Type] = true
		if res.Versioning != "versioned" || !res.ReadHistory || !res.UpdateCreate {
			t.Errorf("%s: versioning %q readHistory %v updateCreate %v", res.Type, res.Versioning, res.ReadHistory, res.UpdateCreate)
		}
		codes := map[string]bool{}
		for _, i := range res.Interaction {
			codes[i.Code] = true
		}
		for _, want := range []string{"read", "vread", "create", "update", "patch", "delete", "history-instance", "history-type"} {
			if !codes[want] {
				t.Errorf("%s lacks interaction %s", res.Type, want)
			}
		}
	}
	if len(types) < 145 {
		t.Errorf("%d resource types listed, want all 145+ of R4", len(types))
	}
	for _, want := range []string{"Patient", "ServiceRequest", "Media", "DiagnosticReport", "Binary"} {
		if !types[want] {
			t.Errorf("%s not listed", want)
		}
	}
}

func TestCreateReadUpdateDelete(t *testing.T) {
	base := target(t)
	// create: the server assigns the id and ignores one in the body.
	c := do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","id":"ignored","meta":{"versionId":"7"},"active":true}`))
	if c.status != http.StatusCreated {
		t.Fatalf("create: %d %s", c.status, c.body)
	}
	loc := c.header.Get("Location")
	if !strings.HasPrefix(loc, base+"/Patient/") || !strings.HasSuffix(loc, "/_history/1") || strings.Contains(loc, "ignored") {
		t.Fatalf("Location %q", loc)
	}
	if c.header.Get("ETag") != `W/"1"` || c.header.Get("Last-Modified") == "" {
		t.Errorf("ETag %q Last-Modified %q", c.header.Get("ETag"), c.header.Get("Last-Modified"))
	}
	created := object(t, c.body)
	id, _ := created["id"].(string)
	if meta, _ := created["meta"].(map[string]any); meta["versionId"] != "1" || meta["lastUpdated"] == nil {
		t.Errorf("meta %v", created["meta"])
	}
	url := base + "/Patient/" + id

	// read, with conditional reads.
	r := do(t, http.MethodGet, url, nil)
	if r.status != http.StatusOK || !bytes.Equal(r.body, c.body) {
		t.Fatalf("read: %d %s", r.status, r.body)
	}
	if nm := do(t, http.MethodGet, url, nil, "If-None-Match", `W/"1"`); nm.status != http.StatusNotModified || len(nm.body) != 0 {
		t.Errorf("If-None-Match current: %d", nm.status)
	}
	if nm := do(t, http.MethodGet, url, nil, "If-None-Match", `W/"0"`); nm.status != http.StatusOK {
		t.Errorf("If-None-Match other: %d", nm.status)
	}
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	if ims := do(t, http.MethodGet, url, nil, "If-Modified-Since", future); ims.status != http.StatusNotModified {
		t.Errorf("If-Modified-Since future: %d", ims.status)
	}
	if ims := do(t, http.MethodGet, url, nil, "If-Modified-Since", past); ims.status != http.StatusOK {
		t.Errorf("If-Modified-Since past: %d", ims.status)
	}

	// update with a stale If-Match fails and changes nothing; a current one works.
	body := fmt.Appendf(nil, `{"resourceType":"Patient","id":%q,"active":false}`, id)
	if u := do(t, http.MethodPut, url, body, "If-Match", `W/"9"`); u.status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %s", u.status, u.body)
	} else {
		decodeOutcome(t, u.body)
	}
	u := do(t, http.MethodPut, url, body, "If-Match", `W/"1"`)
	if u.status != http.StatusOK || u.header.Get("ETag") != `W/"2"` || !strings.HasSuffix(u.header.Get("Location"), "/_history/2") {
		t.Fatalf("update: %d %v %s", u.status, u.header, u.body)
	}
	if v1 := do(t, http.MethodGet, url+"/_history/1", nil); v1.status != http.StatusOK || !bytes.Equal(v1.body, c.body) {
		t.Errorf("vread 1: %d %s", v1.status, v1.body)
	}
	if v9 := do(t, http.MethodGet, url+"/_history/9", nil); v9.status != http.StatusNotFound {
		t.Errorf("vread unknown version: %d", v9.status)
	}

	// delete: a tombstone version; reads say 410; deleting again is fine.
	if d := do(t, http.MethodDelete, url, nil, "If-Match", `W/"1"`); d.status != http.StatusPreconditionFailed {
		t.Errorf("delete with stale If-Match: %d", d.status)
	}
	if d := do(t, http.MethodDelete, url, nil); d.status != http.StatusNoContent && d.status != http.StatusOK {
		t.Fatalf("delete: %d %s", d.status, d.body)
	}
	if g := do(t, http.MethodGet, url, nil); g.status != http.StatusGone {
		t.Errorf("read deleted: %d", g.status)
	} else if o := decodeOutcome(t, g.body); !o.hasIssue("deleted", "") {
		t.Errorf("410 outcome: %s", g.body)
	}
	if g := do(t, http.MethodGet, url+"/_history/3", nil); g.status != http.StatusGone {
		t.Errorf("vread of the deletion: %d", g.status)
	}
	if d := do(t, http.MethodDelete, url, nil); d.status != http.StatusNoContent && d.status != http.StatusOK {
		t.Errorf("second delete: %d", d.status)
	}
	if n := historyCount(t, url+"/_history"); n != 3 {
		t.Errorf("history has %d entries, want create, update, delete", n)
	}
	// an update brings a deleted resource back as a new version.
	if re := do(t, http.MethodPut, url, body); re.status != http.StatusCreated || re.header.Get("ETag") != `W/"4"` {
		t.Errorf("update after delete: %d %s", re.status, re.header.Get("ETag"))
	}
	if d := do(t, http.MethodDelete, base+"/Patient/never-existed", nil); d.status != http.StatusNoContent && d.status != http.StatusOK {
		t.Errorf("delete of unknown id: %d", d.status)
	}
}

func TestPrefer(t *testing.T) {
	base := target(t)
	body := []byte(`{"resourceType":"Patient","active":true}`)
	m := do(t, http.MethodPost, base+"/Patient", body, "Prefer", "return=minimal")
	if m.status != http.StatusCreated || len(m.body) != 0 || m.header.Get("Location") == "" {
		t.Errorf("return=minimal: %d %q", m.status, m.body)
	}
	o := do(t, http.MethodPost, base+"/Patient", body, "Prefer", "return=OperationOutcome")
	if o.status != http.StatusCreated {
		t.Fatalf("return=OperationOutcome: %d", o.status)
	}
	if oo := decodeOutcome(t, o.body); oo.Issue[0].Severity != "information" {
		t.Errorf("outcome %s", o.body)
	}
	rep := do(t, http.MethodPost, base+"/Patient", body, "Prefer", "return=representation")
	if object(t, rep.body)["resourceType"] != "Patient" {
		t.Errorf("return=representation: %s", rep.body)
	}
}

func TestFormats(t *testing.T) {
	base := target(t)
	c := do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","active":true}`))
	loc := strings.TrimSuffix(c.header.Get("Location"), "/_history/1")
	tests := []struct {
		name        string
		url         string
		accept      string
		status      int
		contentType string
	}{
		{"default", loc, "", 200, "application/fhir+json"},
		{"fhir json", loc, "application/fhir+json", 200, "application/fhir+json"},
		{"plain json", loc, "application/json", 200, "application/json"},
		{"anything", loc, "*/*", 200, "application/fhir+json"},
		{"_format=json", loc + "?_format=json", "application/fhir+xml", 200, "application/fhir+json"},
		{"xml accept", loc, "application/fhir+xml", 406, "application/fhir+json"},
		{"_format=xml", loc + "?_format=xml", "", 406, "application/fhir+json"},
		{"metadata xml", base + "/metadata?_format=application/fhir+xml", "", 406, "application/fhir+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.accept != "" {
				h = []string{"Accept", tt.accept}
			}
			r := do(t, http.MethodGet, tt.url, nil, h...)
			if r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), tt.contentType) {
				t.Fatalf("%d %q, want %d %q: %s", r.status, r.header.Get("Content-Type"), tt.status, tt.contentType, r.body)
			}
			if r.status >= 400 {
				if o := decodeOutcome(t, r.body); !strings.Contains(o.Issue[0].Diagnostics, "JSON") {
					t.Errorf("outcome does not say JSON only: %s", r.body)
				}
			}
		})
	}
	xml := do(t, http.MethodPost, base+"/Patient", []byte(`<Patient xmlns="http://hl7.org/fhir"/>`), "Content-Type", "application/fhir+xml")
	if xml.status != http.StatusUnsupportedMediaType {
		t.Errorf("XML body: %d", xml.status)
	} else if o := decodeOutcome(t, xml.body); !strings.Contains(o.Issue[0].Diagnostics, "JSON") {
		t.Errorf("415 outcome: %s", xml.body)
	}
	pretty := do(t, http.MethodGet, loc+"?_pretty=true", nil)
	if !bytes.Contains(pretty.body, []byte("\n  \"")) {
		t.Errorf("_pretty=true not indented: %s", pretty.body)
	}
}

func TestErrorsAreOperationOutcomes(t *testing.T) {
	base := target(t)
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
	}{
		{"unknown type read", "GET", "/Spaceship/1", nil, 404},
		{"unknown type create", "POST", "/Spaceship", []byte(`{"resourceType":"Spaceship"}`), 404},
		{"unknown id", "GET", "/Patient/does-not-exist", nil, 404},
		{"unknown version", "GET", "/Patient/does-not-exist/_history/1", nil, 404},
		{"bad version id", "GET", "/Patient/x/_history/one", nil, 400},
		{"unknown instance history", "GET", "/Patient/does-not-exist/_history", nil, 404},
		{"wrong method on instance", "POST", "/Patient/123", []byte(`{}`), 405},
		{"wrong method on history", "DELETE", "/Patient/_history", nil, 405},
		{"no such endpoint", "GET", "/Patient/1/2/3/4", nil, 404},
		{"bad _since", "GET", "/_history?_since=yesterday", nil, 400},
		{"bad _count", "GET", "/_history?_count=many", nil, 400},
		{"bad cursor", "GET", "/_history?_cursor=garbage", nil, 410},
		{"bad If-Match", "PUT", "/Patient/x", []byte(`{"resourceType":"Patient","id":"x"}`), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.name == "bad If-Match" {
				h = []string{"If-Match", "yesterday"}
			}
			r := do(t, tt.method, base+tt.path, tt.body, h...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			decodeOutcome(t, r.body)
		})
	}
}

func TestBodyLimit(t *testing.T) {
	base := startServer(t, server.Config{MaxBodyBytes: 4096})
	big := fmt.Appendf(nil, `{"resourceType":"Patient","name":[{"family":%q}]}`, strings.Repeat("x", 8192))
	before := historyCount(t, base+"/_history") // the published profiles are there from the start
	r := do(t, http.MethodPost, base+"/Patient", big)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", r.status)
	}
	if o := decodeOutcome(t, r.body); !o.hasIssue("too-long", "") {
		t.Errorf("outcome %s", r.body)
	}
	if n := historyCount(t, base+"/_history"); n != before {
		t.Errorf("%d versions written", n-before)
	}
}

func TestBinary(t *testing.T) {
	base := target(t)
	png := []byte("\x89PNG\r\n\x1a\n fake image bytes \x00\x01\x02")
	c := do(t, http.MethodPost, base+"/Binary", png, "Content-Type", "image/png")
	if c.status != http.StatusCreated {
		t.Fatalf("raw create: %d %s", c.status, c.body)
	}
	url := strings.TrimSuffix(c.header.Get("Location"), "/_history/1")
	for _, accept := range []string{"", "*/*", "image/png"} {
		r := do(t, http.MethodGet, url, nil, "Accept", accept)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" || !bytes.Equal(r.body, png) {
			t.Errorf("Accept %q: %d %q %q", accept, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	r := do(t, http.MethodGet, url, nil, "Accept", "application/fhir+json")
	var bin struct {
		ResourceType, ContentType, Data string
	}
	if err := json.Unmarshal(r.body, &bin); err != nil || bin.ResourceType != "Binary" || bin.ContentType != "image/png" {
		t.Fatalf("FHIR read: %d %s", r.status, r.body)
	}
	if got, _ := decodedBase64(bin.Data).(string); got != string(png) {
		t.Errorf("FHIR read data %q", bin.Data)
	}
	// JSON in, raw out.
	j := do(t, http.MethodPost, base+"/Binary", []byte(`{"resourceType":"Binary","contentType":"application/pdf","data":"JVBERi0xLjQK"}`))
	if j.status != http.StatusCreated {
		t.Fatalf("JSON create: %d %s", j.status, j.body)
	}
	raw := do(t, http.MethodGet, strings.TrimSuffix(j.header.Get("Location"), "/_history/1"), nil)
	if raw.header.Get("Content-Type") != "application/pdf" || string(raw.body) != "%PDF-1.4\n" {
		t.Errorf("raw read of JSON Binary: %q %q", raw.header.Get("Content-Type"), raw.body)
	}
	// raw update makes version 2; version 1 keeps its content.
	u := do(t, http.MethodPut, url, []byte("new bytes"), "Content-Type", "image/jpeg")
	if u.status != http.StatusOK || u.header.Get("ETag") != `W/"2"` {
		t.Fatalf("raw update: %d %s", u.status, u.body)
	}
	if v1 := do(t, http.MethodGet, url+"/_history/1", nil, "Accept", "application/fhir+json"); !bytes.Contains(v1.body, []byte(`"image/png"`)) {
		t.Errorf("version 1: %s", v1.body)
	}
	if cur := do(t, http.MethodGet, url, nil); string(cur.body) != "new bytes" || cur.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("current: %q %q", cur.header.Get("Content-Type"), cur.body)
	}
	if x := do(t, http.MethodPost, base+"/Patient", []byte("plain"), "Content-Type", "text/plain"); x.status != http.StatusUnsupportedMediaType {
		t.Errorf("raw body for a Patient: %d", x.status)
	}
}

func TestBinarySizeLimit(t *testing.T) {
	base := startServer(t, server.Config{MaxBinaryBytes: 1000})
	r := do(t, http.MethodPost, base+"/Binary", bytes.Repeat([]byte("x"), 2000), "Content-Type", "image/jpeg")
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	decodeOutcome(t, r.body)
}

func TestJSONPatch(t *testing.T) {
	base := target(t)
	url := base + "/Observation/patch-me"
	put := do(t, http.MethodPut, url, []byte(`{"resourceType":"Observation","id":"patch-me","status":"preliminary","code":{"text":"lesion diameter"},"valueQuantity":{"value":7.10,"unit":"mm"}}`))
	if put.status != http.StatusCreated {
		t.Fatalf("seed: %d %s", put.status, put.body)
	}
	patch := func(p string, h ...string) reply {
		return do(t, http.MethodPatch, url, []byte(p), append([]string{"Content-Type", "application/json-patch+json"}, h...)...)
	}
	ok := patch(`[{"op":"test","path":"/status","value":"preliminary"},{"op":"replace","path":"/status","value":"final"}]`, "If-Match", `W/"1"`)
	if ok.status != http.StatusOK || ok.header.Get("ETag") != `W/"2"` {
		t.Fatalf("patch: %d %s", ok.status, ok.body)
	}
	got := object(t, ok.body)
	if got["status"] != "final" || fmt.Sprint(got["valueQuantity"].(map[string]any)["value"]) != "7.10" {
		t.Errorf("patched resource: %s", ok.body)
	}
	checkPatchRejections(t, url, func(body []byte, h ...string) reply { return patch(string(body), h...) }, []patchRejection{
		{"failed test op", []byte(`[{"op":"test","path":"/status","value":"preliminary"}]`), nil, 422, "Observation.status"},
		{"missing path", []byte(`[{"op":"remove","path":"/note/0"}]`), nil, 422, "Observation.note[0]"},
		{"invalid result", []byte(`[{"op":"replace","path":"/status","value":"done-ish"}]`), nil, 422, "Observation.status"},
		{"removing a required element", []byte(`[{"op":"remove","path":"/code"}]`), nil, 422, "Observation.code"},
		{"changing the id", []byte(`[{"op":"replace","path":"/id","value":"other"}]`), nil, 422, "Observation.id"},
		{"malformed patch", []byte(`{"op":"replace"}`), nil, 400, ""},
		{"stale If-Match", []byte(`[{"op":"replace","path":"/status","value":"amended"}]`), []string{"If-Match", `W/"1"`}, 412, ""},
	}, 2)
	wrongType := do(t, http.MethodPatch, url, []byte(`[]`), "Content-Type", "application/fhir+json")
	if wrongType.status != http.StatusUnsupportedMediaType {
		t.Errorf("FHIR JSON patch body: %d", wrongType.status)
	}
	if gone := do(t, http.MethodPatch, base+"/Observation/nope", []byte(`[]`), "Content-Type", "application/json-patch+json"); gone.status != http.StatusNotFound {
		t.Errorf("patch unknown: %d", gone.status)
	}
}

func TestHistory(t *testing.T) {
	base := target(t)
	start := time.Now().UTC().Add(-time.Second)
	for i := range 7 {
		do(t, http.MethodPut, fmt.Sprintf("%s/Practitioner/h%d", base, i%3), fmt.Appendf(nil, `{"resourceType":"Practitioner","id":"h%d","name":[{"family":"F%d"}]}`, i%3, i))
	}
	do(t, http.MethodDelete, base+"/Practitioner/h0", nil)
	do(t, http.MethodPost, base+"/Organization", []byte(`{"resourceType":"Organization","name":"Other"}`))

	if n := historyCount(t, base+"/Practitioner/_history?_count=2"); n != 8 {
		t.Errorf("type history: %d entries, want 8", n)
	}
	if n := historyCount(t, base+"/Practitioner/h0/_history?_count=1"); n != 4 {
		t.Errorf("instance history: %d entries, want 4", n)
	}
	if n := historyCount(t, base+"/_history?_count=3"); n < 9 {
		t.Errorf("system history: %d entries, want at least 9", n)
	}
	r := do(t, http.MethodGet, base+"/Practitioner/h0/_history", nil)
	b := decodeBundle(t, r.body)
	if b.Type != "history" || len(b.Entry) != 4 {
		t.Fatalf("instance history bundle: %s", r.body)
	}
	if e := b.Entry[0]; e.Request.Method != "DELETE" || e.Resource != nil || e.Response.Etag != `W/"4"` {
		t.Errorf("newest entry should be the deletion: %+v", e)
	}
	if e := b.Entry[3]; e.Request.Method != "PUT" || !strings.HasPrefix(e.Response.Status, "201") || e.FullURL != base+"/Practitioner/h0" {
		t.Errorf("oldest entry: %+v", e)
	}
	// _since after everything: empty; before everything: all.
	later := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	if n := historyCount(t, base+"/Practitioner/_history?_since="+url.QueryEscape(later)); n != 0 {
		t.Errorf("_since in the future: %d entries", n)
	}
	if n := historyCount(t, base+"/Practitioner/_history?_since="+url.QueryEscape(start.Format(time.RFC3339))); n != 8 {
		t.Errorf("_since before the writes: %d entries", n)
	}
	// _at this year: every version current at some point in it.
	if n := historyCount(t, base+"/Practitioner/h1/_history?_at="+time.Now().UTC().Format("2006")); n != 2 {
		t.Errorf("_at this year: %d entries, want 2", n)
	}
	if n := historyCount(t, base+"/Practitioner/h1/_history?_at=1999"); n != 0 {
		t.Errorf("_at 1999: %d entries", n)
	}
	// paging links keep the parameters and the page size.
	p := decodeBundle(t, do(t, http.MethodGet, base+"/Practitioner/_history?_count=3", nil).body)
	next := p.link("next")
	if !strings.Contains(next, "_count=3") || p.link("self") == "" {
		t.Errorf("links: %+v", p.Link)
	}
}

// patchRejection is a PATCH the server must refuse.
type patchRejection struct {
	name    string
	body    []byte
	headers []string
	status  int
	expr    string // an issue must name it; "" for any issue
}

// checkPatchRejections sends each patch with send, checks its status and
// OperationOutcome, and then that url's history still has versions
// versions: a refused patch writes nothing.
func checkPatchRejections(t *testing.T, url string, send func(body []byte, headers ...string) reply, cases []patchRejection, versions int) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := send(tt.body, tt.headers...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if o := decodeOutcome(t, r.body); !o.hasIssue("", tt.expr) {
				t.Errorf("no issue names %q: %s", tt.expr, r.body)
			}
		})
	}
	if n := historyCount(t, url+"/_history"); n != versions {
		t.Errorf("%d versions after failed patches, want %d", n, versions)
	}
}
