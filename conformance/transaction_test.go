package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/sharedspec"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// txEntry builds one transaction entry.
func txEntry(fullURL, method, url string, resource string) map[string]any {
	e := map[string]any{"request": map[string]any{"method": method, "url": url}}
	if fullURL != "" {
		e["fullUrl"] = fullURL
	}
	if resource != "" {
		e["resource"] = json.RawMessage(resource)
	}
	return e
}

func bundleJSON(t testing.TB, typ string, entries []map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"resourceType": "Bundle", "type": typ, "entry": entries})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// referralTransaction is what a GP record system sends for one skin-lesion
// referral: 20 resources cross-referenced by urn:uuid, with the lesion
// photos as Binaries. nhs is the patient's NHS number.
func referralTransaction(t testing.TB, nhs string) (entries []map[string]any, names []string) {
	u := func(name string) string { return "urn:uuid:" + uuidFor(name) }
	add := func(name, typ, body string) {
		names = append(names, name)
		entries = append(entries, txEntry(u(name), http.MethodPost, typ, body))
	}
	add("org", "Organization", `{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82033"}],"name":"Riverside Surgery"}`)
	add("gp", "Practitioner", `{"resourceType":"Practitioner","identifier":[{"system":"https://fhir.hl7.org.uk/Id/gmp-number","value":"G8133438"}],"name":[{"family":"Okafor","given":["Ada"],"prefix":["Dr"]}]}`)
	add("patient", "Patient", fmt.Sprintf(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":%q}],`+
		`"name":[{"family":"Ashworth","given":["Eleanor"]}],"gender":"female","birthDate":"1958-07-14","generalPractitioner":[{"reference":%q}],"managingOrganization":{"reference":%q}}`,
		nhs, u("gp"), u("org")))
	add("referral", "ServiceRequest", fmt.Sprintf(`{"resourceType":"ServiceRequest","status":"active","intent":"order","priority":"urgent",`+
		`"code":{"coding":[{"system":"http://snomed.info/sct","code":"700241009","display":"Teledermatology referral"}]},`+
		`"subject":{"reference":%q},"requester":{"reference":%q},"performer":[{"reference":%q}],"authoredOn":"2026-11-20T10:15:00Z",`+
		`"reasonReference":[{"reference":%q}],"supportingInfo":[{"reference":%q},{"reference":%q}]}`,
		u("patient"), u("gp"), u("org"), u("condition-1"), u("obs-1"), u("med")))
	for i := 1; i <= 3; i++ {
		photo := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("\xff\xd8\xff\xe0 lesion photo %d", i)))
		add(fmt.Sprintf("binary-%d", i), "Binary", fmt.Sprintf(`{"resourceType":"Binary","contentType":"image/jpeg","data":%q}`, photo))
		add(fmt.Sprintf("media-%d", i), "Media", fmt.Sprintf(`{"resourceType":"Media","status":"completed","basedOn":[{"reference":%q}],"subject":{"reference":%q},`+
			`"bodySite":{"coding":[{"system":"http://snomed.info/sct","code":"368209003","display":"Right upper arm"}]},`+
			`"content":{"contentType":"image/jpeg","url":%q,"title":"lesion %d"}}`, u("referral"), u("patient"), u(fmt.Sprintf("binary-%d", i)), i))
	}
	for i := 1; i <= 7; i++ {
		add(fmt.Sprintf("obs-%d", i), "Observation", fmt.Sprintf(`{"resourceType":"Observation","status":"final",`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"4000%d","display":"checklist feature %d"}]},`+
			`"subject":{"reference":%q},"basedOn":[{"reference":%q}],"valueBoolean":%v,`+
			`"extension":[{"url":"https://example.org/fhir/StructureDefinition/lesion-photo","valueReference":{"reference":%q}}]}`,
			i, i, u("patient"), u("referral"), i%2 == 0, u("media-1")))
	}
	for i := 1; i <= 2; i++ {
		add(fmt.Sprintf("condition-%d", i), "Condition", fmt.Sprintf(`{"resourceType":"Condition",`+
			`"code":{"coding":[{"system":"http://snomed.info/sct","code":"40028300%d"}]},"subject":{"reference":%q},"asserter":{"reference":%q}}`,
			i, u("patient"), u("gp")))
	}
	add("med", "MedicationStatement", fmt.Sprintf(`{"resourceType":"MedicationStatement","status":"active",`+
		`"medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"108537001"}]},"subject":{"reference":%q},`+
		`"contained":[{"resourceType":"Provenance","id":"prov","target":[{"reference":%q}],"recorded":"2026-11-20T10:00:00Z","agent":[{"who":{"reference":%q}}]}]}`,
		u("patient"), u("patient"), u("gp")))
	return entries, names
}

// uuidFor is a fixed UUID per name, so the test can find its entries.
func uuidFor(name string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>20)&0xfff, uint16(h>>8)&0xfff, h&0xffffffffffff)
}

// txResponse is the part of a transaction-response the tests check.
type txResponse struct {
	ResourceType, Type string
	Entry              []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Response struct {
			Status, Location, Etag, LastModified string
			Outcome                              json.RawMessage
		}
	}
}

var locationRE = regexp.MustCompile(`^([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})/_history/(\d+)$`)

// TestTransactionReferral: a referral-shaped transaction lands whole, each
// urn:uuid reference rewritten to the id the server gave its target, and
// the response tells the GP system where everything went, entry by entry.
func TestTransactionReferral(t *testing.T) {
	base := target(t)
	entries, names := referralTransaction(t, "9434765919")
	r := do(t, http.MethodPost, base, bundleJSON(t, "transaction", entries))
	if r.status != http.StatusOK {
		t.Fatalf("transaction: %d %.600s", r.status, r.body)
	}
	var resp txResponse
	decodeInto(t, r.body, &resp)
	if resp.Type != "transaction-response" || len(resp.Entry) != len(entries) {
		t.Fatalf("response is a %s with %d entries, want transaction-response with %d", resp.Type, len(resp.Entry), len(entries))
	}
	placed := map[string]string{} // urn:uuid -> Type/id
	for i, e := range resp.Entry {
		typ := entries[i]["request"].(map[string]any)["url"].(string)
		m := locationRE.FindStringSubmatch(e.Response.Location)
		switch {
		case e.Response.Status != "201 Created":
			t.Errorf("entry %d (%s): status %q, want 201 Created", i, names[i], e.Response.Status)
		case m == nil || m[1] != typ || m[3] != "1":
			t.Errorf("entry %d (%s): location %q, want %s/[id]/_history/1", i, names[i], e.Response.Location, typ)
		case e.Response.Etag != `W/"1"`:
			t.Errorf("entry %d: etag %q", i, e.Response.Etag)
		case e.Response.LastModified == "":
			t.Errorf("entry %d: no lastModified", i)
		case e.FullURL != base+"/"+m[1]+"/"+m[2]:
			t.Errorf("entry %d: fullUrl %q, want %s", i, e.FullURL, base+"/"+m[1]+"/"+m[2])
		default:
			placed["urn:uuid:"+uuidFor(names[i])] = m[1] + "/" + m[2]
		}
	}
	if t.Failed() {
		return
	}
	// Every stored resource: no urn:uuid left, and each reference points
	// where its target was placed.
	for i, name := range names {
		got := do(t, http.MethodGet, base+"/"+placed["urn:uuid:"+uuidFor(name)], nil)
		if got.status != http.StatusOK {
			t.Fatalf("read %s: %d", name, got.status)
		}
		if strings.Contains(string(got.body), "urn:uuid:") {
			t.Errorf("%s still holds a urn:uuid: %.400s", name, got.body)
		}
		sent := string(entries[i]["resource"].(json.RawMessage))
		for from, to := range placed {
			if strings.Contains(sent, `"`+from+`"`) && !strings.Contains(string(got.body), `"`+to+`"`) {
				t.Errorf("%s: the reference to %s was not rewritten to %s: %.400s", name, from, to, got.body)
			}
		}
	}
	// The links hold for searches too: the referral's photos by basedOn.
	sr := placed["urn:uuid:"+uuidFor("referral")]
	if f := searchFor(t, base, "Media?based-on="+sr); len(f.match) != 3 {
		t.Errorf("Media?based-on=%s found %d, want 3", sr, len(f.match))
	}
	if f := searchFor(t, base, "Observation?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919"); len(f.match) != 7 {
		t.Errorf("the 7 observations by the patient's NHS number: found %d", len(f.match))
	}
	// The photo is the Binary's content.
	media := do(t, http.MethodGet, base+"/"+placed["urn:uuid:"+uuidFor("media-2")], nil)
	var m struct{ Content struct{ URL string } }
	decodeInto(t, media.body, &m)
	bin := do(t, http.MethodGet, base+"/"+m.Content.URL, nil, "Accept", "image/jpeg")
	if bin.status != http.StatusOK || string(bin.body) != "\xff\xd8\xff\xe0 lesion photo 2" {
		t.Errorf("GET %s: %d %q", m.Content.URL, bin.status, bin.body)
	}
}

// storeState is what a failed transaction must leave untouched: every
// type's count and the whole system history.
func storeState(t *testing.T, base string, types []string) string {
	t.Helper()
	var b strings.Builder
	for _, typ := range types {
		n, err := countOf(t, base, typ+"?_summary=count")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", typ, n)
	}
	fmt.Fprintf(&b, "history=%d", historyCount(t, base+"/_history?_count=500"))
	return b.String()
}

// TestTransactionAtomicity: a transaction that fails on its last entry, or
// on a conditional reference matching two resources, writes nothing.
func TestTransactionAtomicity(t *testing.T) {
	base := target(t)
	types := []string{"Organization", "Practitioner", "Patient", "ServiceRequest", "Binary", "Media", "Observation", "Condition", "MedicationStatement"}
	// Two patients share an identifier, so a conditional reference to it
	// is ambiguous.
	for i := 0; i < 2; i++ {
		if r := do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","identifier":[{"system":"https://example.org/mrn","value":"dup"}]}`)); r.status != http.StatusCreated {
			t.Fatalf("seed: %d", r.status)
		}
	}
	before := storeState(t, base, types)

	t.Run("invalid last entry", func(t *testing.T) {
		entries, _ := referralTransaction(t, "9434765919")
		entries = append(entries, txEntry("urn:uuid:"+uuidFor("bad"), http.MethodPost, "Observation",
			`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"not a number"}}`))
		r := do(t, http.MethodPost, base, bundleJSON(t, "transaction", entries))
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400: %.400s", r.status, r.body)
		}
		o := decodeOutcome(t, r.body)
		if !o.hasIssue("", fmt.Sprintf("Bundle.entry[%d].resource.valueQuantity.value", len(entries)-1)) {
			t.Errorf("no issue names the bad element of entry %d: %+v", len(entries)-1, o.Issue)
		}
		if after := storeState(t, base, types); after != before {
			t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
		}
	})
	t.Run("ambiguous conditional reference", func(t *testing.T) {
		entries, _ := referralTransaction(t, "9434765919")
		entries = append(entries, txEntry("", http.MethodPost, "Observation",
			`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=https://example.org/mrn|dup"}}`))
		r := do(t, http.MethodPost, base, bundleJSON(t, "transaction", entries))
		if r.status != http.StatusPreconditionFailed {
			t.Fatalf("status %d, want 412: %.400s", r.status, r.body)
		}
		if o := decodeOutcome(t, r.body); !o.hasIssue("", fmt.Sprintf("Bundle.entry[%d].resource.subject.reference", len(entries)-1)) {
			t.Errorf("no issue names the reference: %+v", o.Issue)
		}
		if after := storeState(t, base, types); after != before {
			t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
		}
	})
	t.Run("conditional reference matching one", func(t *testing.T) {
		r := do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","identifier":[{"system":"https://example.org/mrn","value":"one"}]}`))
		want := r.header.Get("Location")
		entries := []map[string]any{txEntry("", http.MethodPost, "Observation",
			`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient?identifier=https://example.org/mrn|one"}}`)}
		r = do(t, http.MethodPost, base, bundleJSON(t, "transaction", entries))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %.400s", r.status, r.body)
		}
		var resp txResponse
		decodeInto(t, r.body, &resp)
		var obs struct{ Subject struct{ Reference string } }
		decodeInto(t, resp.Entry[0].Resource, &obs)
		if !strings.Contains(want, "/"+obs.Subject.Reference+"/") {
			t.Errorf("subject %q, want the patient at %s", obs.Subject.Reference, want)
		}
	})
}

// TestTransactionIsolation: while 200-resource transactions commit,
// concurrent searches see none or all of each one's resources.
func TestTransactionIsolation(t *testing.T) {
	if os.Getenv("TELEDERM_BASE_URL") == "" && mongotest.Wanted() {
		ok, why, err := mongotest.Transactions()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Skipf("%s: a transaction's resources become visible one by one there (the tests accept non-atomic commits), so isolation cannot hold", why)
		}
	}
	base := target(t)
	const size, rounds = 200, 5
	var done atomic.Bool
	var wg sync.WaitGroup
	var seen sync.Map // count -> true
	var polls atomic.Int64
	for range 2 {
		wg.Go(func() {
			for !done.Load() {
				for k := 0; k < rounds; k++ {
					n, err := countOf(t, base, fmt.Sprintf("Observation?code=https://example.org/batch|round-%d&_summary=count", k))
					if err != nil {
						t.Error(err)
						return
					}
					seen.Store(n, true)
					polls.Add(1)
					if n != 0 && n != size {
						t.Errorf("round %d: a search saw %d of the transaction's %d resources", k, n, size)
					}
				}
			}
		})
	}
	for k := 0; k < rounds; k++ {
		entries := make([]map[string]any, size)
		for i := range entries {
			entries[i] = txEntry("", http.MethodPost, "Observation", fmt.Sprintf(
				`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"https://example.org/batch","code":"round-%d"}]},"valueInteger":%d}`, k, i))
		}
		if r := do(t, http.MethodPost, base, bundleJSON(t, "transaction", entries)); r.status != http.StatusOK {
			t.Fatalf("round %d: %d %.300s", k, r.status, r.body)
		}
	}
	done.Store(true)
	wg.Wait()
	if _, ok := seen.Load(size); !ok {
		t.Errorf("no poll saw a committed transaction (%d polls)", polls.Load())
	}
	t.Logf("%d polls during %d commits of %d resources", polls.Load(), rounds, size)
}

// TestTransactionRejections: what a transaction refuses, with the entry
// named.
func TestTransactionRejections(t *testing.T) {
	base := target(t)
	pt := `{"resourceType":"Patient","name":[{"family":"X"}]}`
	cases := []struct {
		name    string
		entries []map[string]any
		status  int
		expr    string
	}{
		{"same resource twice", []map[string]any{
			txEntry("", http.MethodPut, "Patient/a", `{"resourceType":"Patient","id":"a"}`),
			txEntry("", http.MethodPut, "Patient/a", `{"resourceType":"Patient","id":"a"}`),
		}, http.StatusBadRequest, "Bundle.entry[1].request"},
		{"unresolved urn:uuid", []map[string]any{
			txEntry("", http.MethodPost, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:`+uuidFor("nobody")+`"}}`),
		}, http.StatusBadRequest, "Bundle.entry[0].resource.subject.reference"},
		{"type differs from url", []map[string]any{txEntry("", http.MethodPost, "Observation", pt)}, http.StatusBadRequest, "Bundle.entry[0].resource"},
		{"bad method", []map[string]any{{"request": map[string]any{"method": "FETCH", "url": "Patient"}}}, http.StatusBadRequest, "Bundle.entry[0].request.method"},
		{"no request", []map[string]any{{"resource": json.RawMessage(pt)}}, http.StatusBadRequest, "Bundle.entry[0].request"},
		{"stale ifMatch", []map[string]any{{"request": map[string]any{"method": "PUT", "url": "Patient/b", "ifMatch": `W/"7"`}, "resource": json.RawMessage(`{"resourceType":"Patient","id":"b"}`)}},
			http.StatusPreconditionFailed, "Bundle.entry[0].request.ifMatch"},
		{"foreign absolute url", []map[string]any{txEntry("", http.MethodPut, "http://elsewhere.example/fhir/Patient/c", `{"resourceType":"Patient","id":"c"}`)}, http.StatusBadRequest, "Bundle.entry[0].request.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodPost, base, bundleJSON(t, "transaction", tc.entries))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %.400s", r.status, tc.status, r.body)
			}
			if o := decodeOutcome(t, r.body); !o.hasIssue("", tc.expr) {
				t.Errorf("no issue names %s: %+v", tc.expr, o.Issue)
			}
		})
	}
	t.Run("body over the bundle limit", func(t *testing.T) {
		small := startServer(t, server.Config{MaxBundleBytes: 2048})
		entries := make([]map[string]any, 40)
		for i := range entries {
			entries[i] = txEntry("", http.MethodPost, "Patient", pt)
		}
		r := do(t, http.MethodPost, small, bundleJSON(t, "transaction", entries))
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", r.status)
		}
		decodeOutcome(t, r.body)
		if n, err := countOf(t, small, "Patient?_summary=count"); err != nil || n != 0 {
			t.Errorf("%d patients stored (%v), want 0", n, err)
		}
	})
	t.Run("too many entries", func(t *testing.T) {
		small := startServer(t, serverConfigWithMaxEntries(3))
		entries := make([]map[string]any, 4)
		for i := range entries {
			entries[i] = txEntry("", http.MethodPost, "Patient", pt)
		}
		r := do(t, http.MethodPost, small, bundleJSON(t, "transaction", entries))
		if r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", r.status)
		}
		decodeOutcome(t, r.body)
	})
}

// TestTransactionOperations: every method in one transaction, processed in
// the spec's order, with conditional create, update and delete.
func TestTransactionOperations(t *testing.T) {
	base := target(t)
	seed := func(body string) string {
		r := do(t, http.MethodPost, base+"/Patient", []byte(body))
		if r.status != http.StatusCreated {
			t.Fatalf("seed: %d", r.status)
		}
		m := locationRE.FindStringSubmatch(strings.TrimPrefix(r.header.Get("Location"), base+"/"))
		return m[2]
	}
	gone := seed(`{"resourceType":"Patient","identifier":[{"system":"s","value":"gone"}]}`)
	kept := seed(`{"resourceType":"Patient","identifier":[{"system":"s","value":"kept"}]}`)
	patched := seed(`{"resourceType":"Patient","active":true}`)
	patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/active","value":false}]`))
	entries := []map[string]any{
		txEntry("", http.MethodGet, "Patient/"+kept, ""),
		{"request": map[string]any{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=s|kept"}, "resource": json.RawMessage(`{"resourceType":"Patient"}`)},
		txEntry("", http.MethodPut, "Patient?identifier=s|new", `{"resourceType":"Patient","identifier":[{"system":"s","value":"new"}]}`),
		txEntry("", http.MethodDelete, "Patient?identifier=s|gone", ""),
		txEntry("", http.MethodPatch, "Patient/"+patched, `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"`+patch+`"}`),
		txEntry("", http.MethodGet, "Patient?identifier=s|new", ""),
	}
	r := do(t, http.MethodPost, base, bundleJSON(t, "transaction", entries))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %.600s", r.status, r.body)
	}
	var resp txResponse
	decodeInto(t, r.body, &resp)
	want := []string{"200 OK", "200 OK", "201 Created", "204 No Content", "200 OK", "200 OK"}
	for i, e := range resp.Entry {
		if e.Response.Status != want[i] {
			t.Errorf("entry %d: status %q, want %q", i, e.Response.Status, want[i])
		}
	}
	if !strings.Contains(resp.Entry[1].Response.Location, "Patient/"+kept+"/") {
		t.Errorf("conditional create: location %q, want the existing Patient/%s", resp.Entry[1].Response.Location, kept)
	}
	if g := do(t, http.MethodGet, base+"/Patient/"+gone, nil); g.status != http.StatusGone {
		t.Errorf("conditionally deleted patient: %d, want 410", g.status)
	}
	if g := do(t, http.MethodGet, base+"/Patient/"+patched, nil); !strings.Contains(string(g.body), `"active":false`) {
		t.Errorf("patched patient: %.300s", g.body)
	}
	// The GET ran after the writes: it finds the patient the PUT created.
	var found struct{ Total int }
	decodeInto(t, resp.Entry[5].Resource, &found)
	if found.Total != 1 {
		t.Errorf("GET after the writes found %d patients with identifier s|new, want 1", found.Total)
	}
}

// TestBatch: entries succeed or fail on their own, each with its status
// and, on failure, its OperationOutcome.
func TestBatch(t *testing.T) {
	base := target(t)
	entries := []map[string]any{
		txEntry("", http.MethodPost, "Patient", `{"resourceType":"Patient","name":[{"family":"Ok"}]}`),
		txEntry("", http.MethodPost, "Patient", `{"resourceType":"Patient","gender":"nonsense"}`),
		txEntry("", http.MethodGet, "Patient/does-not-exist", ""),
		txEntry("", http.MethodGet, "Patient?family=Ok", ""),
		txEntry("", http.MethodPut, "Patient/batch-1", `{"resourceType":"Patient","id":"batch-1"}`),
	}
	r := do(t, http.MethodPost, base, bundleJSON(t, "batch", entries))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %.400s", r.status, r.body)
	}
	var resp txResponse
	decodeInto(t, r.body, &resp)
	if resp.Type != "batch-response" || len(resp.Entry) != len(entries) {
		t.Fatalf("%s with %d entries", resp.Type, len(resp.Entry))
	}
	want := []string{"201 Created", "400 Bad Request", "404 Not Found", "200 OK", "201 Created"}
	for i, e := range resp.Entry {
		if e.Response.Status != want[i] {
			t.Errorf("entry %d: status %q, want %q", i, e.Response.Status, want[i])
		}
		if strings.HasPrefix(want[i], "4") {
			if o := decodeOutcome(t, e.Response.Outcome); len(o.Issue) == 0 {
				t.Errorf("entry %d: no outcome", i)
			}
		}
	}
	if !strings.Contains(string(resp.Entry[1].Response.Outcome), "Patient.gender") {
		t.Errorf("the invalid entry's outcome does not name Patient.gender: %s", resp.Entry[1].Response.Outcome)
	}
}

// TestBundleExamples: every official transaction and batch example is
// processed, or refused with an OperationOutcome naming what is wrong
// with it; the test lists which and why.
func TestBundleExamples(t *testing.T) {
	base := target(t)
	for _, ex := range examplesOfType(t, "Bundle") {
		var head struct{ Type string }
		_ = json.Unmarshal(ex.Body, &head)
		if head.Type != "transaction" && head.Type != "batch" {
			continue
		}
		r := do(t, http.MethodPost, base, ex.Body)
		switch {
		case r.status == http.StatusOK:
			var resp txResponse
			decodeInto(t, r.body, &resp)
			var statuses []string
			for _, e := range resp.Entry {
				statuses = append(statuses, strings.Fields(e.Response.Status)[0])
			}
			t.Logf("%s (%s): processed, entry statuses %v", ex.Name, head.Type, statuses)
		case r.status >= 400 && r.status < 500:
			o := decodeOutcome(t, r.body)
			if len(o.Issue[0].Expression) == 0 {
				t.Errorf("%s: refused with %d but the issue names no element: %+v", ex.Name, r.status, o.Issue)
			}
			t.Logf("%s (%s): refused %d: %s at %v", ex.Name, head.Type, r.status, o.Issue[0].Diagnostics, o.Issue[0].Expression)
		default:
			t.Errorf("%s: status %d: %.300s", ex.Name, r.status, r.body)
		}
	}
}

// countOf runs a search with _summary=count and returns Bundle.total.
func countOf(t testing.TB, base, query string) (int, error) {
	r := do(t, http.MethodGet, base+"/"+query, nil)
	if r.status != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d %.200s", query, r.status, r.body)
	}
	var b struct{ Total *int }
	if err := json.Unmarshal(r.body, &b); err != nil || b.Total == nil {
		return 0, fmt.Errorf("GET %s: no total: %.200s", query, r.body)
	}
	return *b.Total, nil
}

// examplesOfType are the official examples of one resource type.
func examplesOfType(t *testing.T, typ string) []sharedspec.Example {
	var out []sharedspec.Example
	for _, ex := range sharedspec.Examples(t) {
		if strings.HasPrefix(ex.Name, typ+"/") {
			out = append(out, ex)
		}
	}
	return out
}

func serverConfigWithMaxEntries(n int) server.Config { return server.Config{MaxBundleEntries: n} }
