package conformance

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/api"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// These tests need bearer tokens whose grants they choose, so they always
// run against an in-process server with a test Authenticator (fixed
// strings mapped to grants), never against TELEDERM_BASE_URL.

// tokenAuth is the test double of the SMART authorization server: each
// bearer string stands for a fixed grant.
type tokenAuth map[string]*access.Grant

func (a tokenAuth) Authenticate(r *http.Request) (*access.Grant, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil, errors.New("the request has no bearer token")
	}
	if g := a[tok]; g != nil {
		return g, nil
	}
	return nil, errors.New("the token is not valid")
}

// scopeTokens are the callers of these tests: admin may do anything,
// pat1 everything in Patient/p1's record, labs only read p1's laboratory
// Observations, obsreader read every Observation and nothing else.
var scopeTokens = map[string]struct{ scopes, patient string }{
	"admin":     {"system/*.cruds", ""},
	"pat1":      {"launch/patient patient/*.cruds", "p1"},
	"labs":      {"patient/Observation.rs?category=laboratory", "p1"},
	"obsreader": {"user/Observation.rs", ""},
}

// startScopedServer runs the HTTP API over a fresh store with auth
// (nil: authorization off) and returns its base URL.
func startScopedServer(t testing.TB, auth api.Authenticator) string {
	t.Helper()
	dir := t.TempDir()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	repo, err := sqlite.Open(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := media.NewFileStore(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := rest.New(repo, blobs, codec, rest.Config{BaseURL: base, Logger: quiet})
	ts.Config.Handler = api.New(svc, api.Config{Auth: auth, Logger: quiet})
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		_ = repo.Close()
	})
	return base
}

func scopeAuth(t testing.TB) tokenAuth {
	t.Helper()
	auth := tokenAuth{}
	for tok, g := range scopeTokens {
		sc, err := access.ParseScopes(g.scopes)
		if err != nil {
			t.Fatal(err)
		}
		auth[tok] = &access.Grant{TokenID: tok, ClientID: "conformance", Scopes: sc, Patient: g.patient}
	}
	return auth
}

// scopedWorld starts a server and stores, as admin, two patients' records:
// p1 has laboratory Observation o1 (derived from p2's o2) and vital-signs
// Observation o1v; p2 has laboratory Observations o2 and o2b (o2b derived
// from p1's o1). The links across records are what _include and
// _revinclude would follow into the other patient's data.
func scopedWorld(t *testing.T) string {
	t.Helper()
	base := startScopedServer(t, scopeAuth(t))
	obs := func(id, patient, category, derivedFrom string) string {
		extra := ""
		if derivedFrom != "" {
			extra = `,"derivedFrom":[{"reference":"Observation/` + derivedFrom + `"}]`
		}
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","category":[{"coding":[{"system":` +
			`"http://terminology.hl7.org/CodeSystem/observation-category","code":"` + category + `"}]}],"code":{"text":"lesion"},` +
			`"subject":{"reference":"Patient/` + patient + `"}` + extra + `}`
	}
	for _, r := range []struct{ path, body string }{
		{"Patient/p1", `{"resourceType":"Patient","id":"p1","name":[{"family":"One"}]}`},
		{"Patient/p2", `{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]}`},
		{"Observation/o2", obs("o2", "p2", "laboratory", "")},
		{"Observation/o1", obs("o1", "p1", "laboratory", "o2")},
		{"Observation/o1v", obs("o1v", "p1", "vital-signs", "")},
		{"Observation/o2b", obs("o2b", "p2", "laboratory", "o1")},
	} {
		if rep := as(t, "admin", http.MethodPut, base+"/"+r.path, []byte(r.body)); rep.status != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", r.path, rep.status, rep.body)
		}
	}
	return base
}

// as sends a request with the named bearer token.
func as(t testing.TB, token, method, url string, body []byte, headers ...string) reply {
	t.Helper()
	return do(t, method, url, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

// refsOf lists a searchset's entries as Type/id, sorted.
func refsOf(t *testing.T, base string, r reply) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	out := []string{}
	for _, e := range decodeBundle(t, r.body).Entry {
		if e.Resource != nil && !strings.Contains(string(e.Resource), `"OperationOutcome"`) {
			out = append(out, strings.TrimPrefix(e.FullURL, base+"/"))
		}
	}
	slices.Sort(out)
	return out
}

func TestScopesUnauthenticatedIs401(t *testing.T) {
	base := scopedWorld(t)
	for _, h := range [][]string{nil, {"Authorization", "Bearer not-a-token"}, {"Authorization", "Basic YTpi"}} {
		r := do(t, http.MethodGet, base+"/Observation/o1", nil, h...)
		if r.status != http.StatusUnauthorized {
			t.Errorf("headers %v: %d, want 401: %s", h, r.status, r.body)
			continue
		}
		if w := r.header.Get("WWW-Authenticate"); !strings.Contains(w, "Bearer") || !strings.Contains(w, "invalid_token") {
			t.Errorf("headers %v: WWW-Authenticate %q", h, w)
		}
		decodeOutcome(t, r.body)
	}
	if r := do(t, http.MethodGet, base+"/metadata", nil); r.status != http.StatusOK {
		t.Errorf("/metadata without a token: %d", r.status)
	}
}

// TestScopesOtherPatientReadIs404: a patient token asking for another
// patient's resource gets exactly the answer for a resource that does not
// exist (404), so it cannot even learn the id is in use. A type that
// patient/ scopes never reach is a 403: that depends on no data.
func TestScopesOtherPatientReadIs404(t *testing.T) {
	base := scopedWorld(t)
	missing := as(t, "pat1", http.MethodGet, base+"/Observation/nosuch", nil)
	for _, path := range []string{"Observation/o2", "Patient/p2", "Observation/o2/_history/1", "Observation/o2/_history", "Observation/o2/$meta"} {
		r := as(t, "pat1", http.MethodGet, base+"/"+path, nil)
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404: %s", path, r.status, r.body)
			continue
		}
		if o := decodeOutcome(t, r.body); !o.hasIssue(fhir.CodeNotFound, "") {
			t.Errorf("GET %s: %s", path, r.body)
		}
		if admin := as(t, "admin", http.MethodGet, base+"/"+path, nil); admin.status != http.StatusOK {
			t.Errorf("GET %s as admin: %d (the test needs it to exist)", path, admin.status)
		}
	}
	if missing.status != http.StatusNotFound {
		t.Errorf("GET a missing Observation: %d", missing.status)
	}
	for _, path := range []string{"Observation/o1", "Patient/p1"} {
		if r := as(t, "pat1", http.MethodGet, base+"/"+path, nil); r.status != http.StatusOK {
			t.Errorf("GET own %s: %d %s", path, r.status, r.body)
		}
	}
	if r := as(t, "pat1", http.MethodGet, base+"/Practitioner/any", nil); r.status != http.StatusForbidden {
		t.Errorf("GET a Practitioner with patient/ scopes: %d, want 403", r.status)
	}
}

func TestScopesSearchNeverReturnsOtherPatients(t *testing.T) {
	base := scopedWorld(t)
	own := []string{"Observation/o1", "Observation/o1v"}
	for _, q := range []struct{ method, url, form string }{
		{http.MethodGet, "/Observation", ""},
		{http.MethodGet, "/Observation?_count=1000", ""},
		{http.MethodPost, "/Observation/_search", "status=final"},
		{http.MethodGet, "/?_type=Observation", ""},
		{http.MethodGet, "/Patient/p1/Observation", ""},
		{http.MethodGet, "/Patient/p1/*?_type=Observation", ""},
	} {
		var r reply
		if q.form != "" {
			r = as(t, "pat1", q.method, base+q.url, []byte(q.form), "Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = as(t, "pat1", q.method, base+q.url, nil)
		}
		if got := refsOf(t, base, r); !slices.Equal(got, own) {
			t.Errorf("%s %s: %v, want %v", q.method, q.url, got, own)
		}
	}
	for _, q := range []string{"/Observation?subject=Patient/p2", "/Patient/p2/Observation", "/Observation?_id=o2,o2b", "/Patient?name=Two"} {
		if got := refsOf(t, base, as(t, "pat1", http.MethodGet, base+q, nil)); len(got) != 0 {
			t.Errorf("GET %s: %v, want nothing", q, got)
		}
		if got := refsOf(t, base, as(t, "admin", http.MethodGet, base+q, nil)); len(got) == 0 {
			t.Errorf("GET %s as admin found nothing (the test needs it to)", q)
		}
	}
}

func TestScopesIncludesNeverReturnOtherPatients(t *testing.T) {
	base := scopedWorld(t)
	tests := []struct{ query, admin, pat1 string }{
		{"_id=o1&_include=Observation:derived-from", "Observation/o1,Observation/o2", "Observation/o1"},
		{"_id=o1&_revinclude=Observation:derived-from", "Observation/o1,Observation/o2b", "Observation/o1"},
		{"_id=o1&_include=Observation:derived-from&_include:iterate=Observation:subject", "Observation/o1,Observation/o2,Patient/p1,Patient/p2", "Observation/o1,Patient/p1"},
	}
	for _, tt := range tests {
		for _, who := range []struct{ token, want string }{{"admin", tt.admin}, {"pat1", tt.pat1}} {
			got := strings.Join(refsOf(t, base, as(t, who.token, http.MethodGet, base+"/Observation?"+tt.query, nil)), ",")
			if got != who.want {
				t.Errorf("%s as %s: %s, want %s", tt.query, who.token, got, who.want)
			}
		}
	}
}

// TestScopesChainedSearchIsRefused: a chain tests resources beyond the
// caller's compartment (here: another patient's name), so a confined
// token may not chain; the unconfined one finds the other patient's data.
func TestScopesChainedSearchIsRefused(t *testing.T) {
	base := scopedWorld(t)
	for _, q := range []string{"/Observation?subject:Patient.name=Two", "/Observation?derived-from.subject=Patient/p2", "/Patient?_has:Observation:subject:category=laboratory"} {
		if got := refsOf(t, base, as(t, "admin", http.MethodGet, base+q, nil)); len(got) == 0 {
			t.Errorf("GET %s as admin found nothing (the test needs it to)", q)
		}
		r := as(t, "pat1", http.MethodGet, base+q, nil)
		if r.status != http.StatusForbidden || !decodeOutcome(t, r.body).hasIssue(fhir.CodeForbidden, "") {
			t.Errorf("GET %s as pat1: %d, want 403: %s", q, r.status, r.body)
		}
	}
}

func countObservations(t *testing.T, base string) int {
	t.Helper()
	var b struct{ Total int }
	decodeInto(t, as(t, "admin", http.MethodGet, base+"/Observation?_summary=count", nil).body, &b)
	return b.Total
}

func postObservations(t *testing.T, base, token, bundleType string, patients ...string) reply {
	t.Helper()
	var entries []string
	for _, p := range patients {
		entries = append(entries, fmt.Sprintf(`{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},`+
			`"subject":{"reference":"Patient/%s"}},"request":{"method":"POST","url":"Observation"}}`, p))
	}
	body := `{"resourceType":"Bundle","type":"` + bundleType + `","entry":[` + strings.Join(entries, ",") + `]}`
	return as(t, token, http.MethodPost, base+"/", []byte(body))
}

func TestScopesTransactionWithAnotherPatientsEntryWritesNothing(t *testing.T) {
	base := scopedWorld(t)
	before := countObservations(t, base)
	r := postObservations(t, base, "pat1", "transaction", "p1", "p1", "p2")
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403: %s", r.status, r.body)
	}
	if o := decodeOutcome(t, r.body); !o.hasIssue(fhir.CodeForbidden, "Bundle.entry[2]") {
		t.Errorf("the outcome does not name Bundle.entry[2]: %s", r.body)
	}
	if w := r.header.Get("WWW-Authenticate"); !strings.Contains(w, "insufficient_scope") {
		t.Errorf("WWW-Authenticate %q", w)
	}
	if after := countObservations(t, base); after != before {
		t.Errorf("%d Observations after the refused transaction, want %d", after, before)
	}
	if r := postObservations(t, base, "pat1", "transaction", "p1", "p1"); r.status != http.StatusOK {
		t.Errorf("a transaction within the compartment: %d %s", r.status, r.body)
	}
}

func TestScopesBatchRefusesOnlyTheEntry(t *testing.T) {
	base := scopedWorld(t)
	before := countObservations(t, base)
	r := postObservations(t, base, "pat1", "batch", "p1", "p2")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	b := decodeBundle(t, r.body)
	if len(b.Entry) != 2 || !strings.HasPrefix(b.Entry[0].Response.Status, "201") || !strings.HasPrefix(b.Entry[1].Response.Status, "403") {
		t.Fatalf("entry statuses: %s", r.body)
	}
	var entry struct {
		Entry []struct {
			Response struct{ Outcome map[string]any }
		}
	}
	decodeInto(t, r.body, &entry)
	if entry.Entry[1].Response.Outcome["resourceType"] != "OperationOutcome" {
		t.Errorf("the refused entry has no OperationOutcome: %s", r.body)
	}
	if after := countObservations(t, base); after != before+1 {
		t.Errorf("%d Observations after the batch, want %d", after, before+1)
	}
}

// TestScopesMissingLetterIs403: a scope without the interaction's letter
// gets 403 with WWW-Authenticate insufficient_scope and an outcome naming
// the scope needed.
func TestScopesMissingLetterIs403(t *testing.T) {
	base := scopedWorld(t)
	tests := []struct{ method, path, body, needs string }{
		{http.MethodPost, "/Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`, "create of Observation"},
		{http.MethodDelete, "/Observation/o1", "", "delete of Observation"},
		{http.MethodGet, "/Condition?subject=Patient/p1", "", "search of Condition"},
		{http.MethodGet, "/Patient/p1", "", "read of Patient"},
	}
	for _, tt := range tests {
		var body []byte
		if tt.body != "" {
			body = []byte(tt.body)
		}
		r := as(t, "obsreader", tt.method, base+tt.path, body)
		if r.status != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", tt.method, tt.path, r.status)
			continue
		}
		if w := r.header.Get("WWW-Authenticate"); !strings.Contains(w, `error="insufficient_scope"`) {
			t.Errorf("%s %s: WWW-Authenticate %q", tt.method, tt.path, w)
		}
		o := decodeOutcome(t, r.body)
		if !o.hasIssue(fhir.CodeForbidden, "") || !strings.Contains(o.Issue[0].Diagnostics, tt.needs) {
			t.Errorf("%s %s: outcome %s, want it to name %q", tt.method, tt.path, r.body, tt.needs)
		}
	}
	if r := as(t, "obsreader", http.MethodGet, base+"/Observation/o2", nil); r.status != http.StatusOK {
		t.Errorf("user/Observation.rs reading any Observation: %d", r.status)
	}
}

func TestScopesGranular(t *testing.T) {
	base := scopedWorld(t)
	if got := strings.Join(refsOf(t, base, as(t, "labs", http.MethodGet, base+"/Observation", nil)), ","); got != "Observation/o1" {
		t.Errorf("search: %s, want only p1's laboratory Observation/o1", got)
	}
	for path, want := range map[string]int{"Observation/o1": 200, "Observation/o1v": 404, "Observation/o2": 404, "Patient/p1": 403} {
		if r := as(t, "labs", http.MethodGet, base+"/"+path, nil); r.status != want {
			t.Errorf("GET %s: %d, want %d", path, r.status, want)
		}
	}
}

func TestScopesAuditTrailIsWrittenByTheServerOnly(t *testing.T) {
	base := scopedWorld(t)
	body := []byte(`{"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2024-01-01T00:00:00Z","agent":[{"requestor":true}],"source":{"observer":{"display":"x"}}}`)
	for _, req := range []struct{ method, path string }{{http.MethodPost, "/AuditEvent"}, {http.MethodPut, "/AuditEvent/a1"}, {http.MethodDelete, "/AuditEvent/a1"}} {
		var b []byte
		if req.method != http.MethodDelete {
			b = body
		}
		r := as(t, "admin", req.method, base+req.path, b)
		if r.status != http.StatusMethodNotAllowed || !strings.Contains(decodeOutcome(t, r.body).Issue[0].Diagnostics, "written by the server") {
			t.Errorf("%s %s: %d %s", req.method, req.path, r.status, r.body)
		}
	}
}

// BenchmarkScopedReadByID: a read by id over HTTP with authorization off,
// with an unconfined token and with a patient-confined one.
func BenchmarkScopedReadByID(b *testing.B) {
	auth := scopeAuth(b)
	off := startScopedServer(b, nil)
	on := startScopedServer(b, auth)
	const n = 200
	body := func(i int) []byte {
		return fmt.Appendf(nil, `{"resourceType":"Observation","id":"o%d","status":"final","category":[{"coding":[{"system":`+
			`"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"text":"lesion"},`+
			`"subject":{"reference":"Patient/p1"},"effectiveDateTime":"2024-05-01T10:00:00Z","valueString":"3 mm"}`, i)
	}
	for _, base := range []string{off, on} {
		for i := range n {
			if r := as(b, "admin", http.MethodPut, fmt.Sprintf("%s/Observation/o%d", base, i), body(i)); r.status != http.StatusCreated {
				b.Fatalf("seed: %d %s", r.status, r.body)
			}
		}
	}
	for _, c := range []struct{ name, base, token string }{{"off", off, ""}, {"system", on, "admin"}, {"patient", on, "pat1"}} {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{}
			i := 0
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/Observation/o%d", c.base, i%n), nil)
				if c.token != "" {
					req.Header.Set("Authorization", "Bearer "+c.token)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
				i++
			}
		})
	}
}
