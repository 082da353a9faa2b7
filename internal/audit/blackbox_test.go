package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/api"
	"github.com/telederm/telederm/internal/audit"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store/mongo"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// tokenAuth is a test double of the SMART token check: a bearer token it
// knows gets its grant, any other gets 401.
type tokenAuth map[string]*access.Grant

func (a tokenAuth) Authenticate(r *http.Request) (*access.Grant, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if g := a[tok]; ok && g != nil {
		return g, nil
	}
	return nil, errors.New("the access token is not valid")
}

// auditedServer assembles store, REST service, audit trail and HTTP API as
// internal/server does, with tokenAuth in front.
func auditedServer(t *testing.T, auth api.Authenticator) (string, *audit.Trail) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	repo, err := sqlite.Open(context.Background(), dir, sqlite.Options{})
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
	trail, err := openTrail(t, dir, audit.Options{BaseURL: base, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	svc := rest.New(repo, blobs, codec, rest.Config{BaseURL: base, Logger: log, AuditTrail: trail})
	ts.Config.Handler = api.New(svc, api.Config{Logger: log, Auth: auth, Audit: trail})
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		if err := errors.Join(trail.Close(), repo.Close()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return base, trail
}

// openTrail opens the trail in dir, or, when the suite runs on FerretDB
// (TELEDERM_TEST_STORE=ferretdb), in a fresh database of its own.
func openTrail(t *testing.T, dir string, opts audit.Options) (*audit.Trail, error) {
	if !mongotest.Wanted() {
		return audit.Open(context.Background(), dir, opts)
	}
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("FerretDB did not start: %v", err)
	}
	s, err := mongo.Open(context.Background(), uri, mongo.Options{AllowNonAtomic: true, Quiet: true, Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		_ = s.Close()
		_ = mongotest.Drop(uri)
	})
	as, err := s.AuditStore(context.Background())
	if err != nil {
		return nil, err
	}
	return audit.OpenStore(as, opts)
}

type reply struct {
	status int
	body   []byte
}

func call(t *testing.T, method, url, token string, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, body: b}
}

func expect(t *testing.T, r reply, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.body)
	}
}

// event is the part of an AuditEvent this test reads.
type event struct {
	Subtype []struct{ Code string }
	Outcome string
	Agent   []struct {
		Who *struct {
			Reference  string
			Identifier *struct{ Value string }
			Display    string
		}
		Requestor bool
		Network   *struct{ Address string }
	}
	Entity []struct {
		What *struct{ Reference string }
		Role *struct{ Code string }
	}
}

func (e event) subtype() string {
	if len(e.Subtype) == 0 {
		return ""
	}
	return e.Subtype[0].Code
}

func (e event) refs() []string {
	var out []string
	for _, en := range e.Entity {
		if en.What != nil && en.What.Reference != "" {
			out = append(out, en.What.Reference)
		}
	}
	return out
}

// searchEvents searches the trail over HTTP, checks that every event is a
// valid R4 AuditEvent and returns the matches in order.
func searchEvents(t *testing.T, base, token, query string) []event {
	t.Helper()
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, http.MethodGet, base+"/AuditEvent?"+query, token, "")
	expect(t, r, http.StatusOK, "search AuditEvent")
	var b struct {
		Entry []struct {
			Resource json.RawMessage
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	var out []event
	for _, e := range b.Entry {
		if e.Search.Mode != "match" {
			continue
		}
		if _, o := codec.Parse(e.Resource); o != nil {
			t.Errorf("invalid AuditEvent: %v\n%s", o, e.Resource)
		}
		var ev event
		if err := json.Unmarshal(e.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// One read, one search, one transaction and one refused request each
// leave exactly one event, with the interaction, outcome, caller and
// resources they should; reading the trail is audited in turn.
func TestEveryInteractionIsAudited(t *testing.T) {
	scopes, err := access.ParseScopes("user/*.cruds user/AuditEvent.rs")
	if err != nil {
		t.Fatal(err)
	}
	grant := &access.Grant{ClientID: "gp-app", Subject: "u-17", FHIRUser: "Practitioner/dr1", Patient: "p1", Scopes: scopes,
		Expires: time.Now().Add(time.Hour)}
	base, trail := auditedServer(t, tokenAuth{"good": grant})

	expect(t, call(t, http.MethodPut, base+"/Patient/p1", "good", `{"resourceType":"Patient","id":"p1","gender":"female"}`),
		http.StatusCreated, "create Patient/p1")
	expect(t, call(t, http.MethodGet, base+"/Patient/p1", "good", ""), http.StatusOK, "read")
	expect(t, call(t, http.MethodGet, base+"/Patient?gender=female", "good", ""), http.StatusOK, "search")
	tx := call(t, http.MethodPost, base+"/", "good", `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:0b1c2d3e-0000-4000-8000-000000000001",
		 "resource":{"resourceType":"Observation","status":"final","code":{"text":"lesion size"},"subject":{"reference":"Patient/p1"}},
		 "request":{"method":"POST","url":"Observation"}}]}`)
	expect(t, tx, http.StatusOK, "transaction")
	denied := call(t, http.MethodGet, base+"/Patient/p1", "stolen-token", "")
	expect(t, denied, http.StatusUnauthorized, "read with a bad token")
	if err := trail.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	events := searchEvents(t, base, "good", "_sort=date")
	type summary struct{ subtype, outcome string }
	var got []summary
	for _, e := range events {
		got = append(got, summary{e.subtype(), e.Outcome})
	}
	want := []summary{{"update", "0"}, {"read", "0"}, {"search-type", "0"}, {"transaction", "0"}, {"read", "4"}}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, e := range events[:4] {
		if len(e.Agent) != 2 || e.Agent[0].Who == nil || e.Agent[0].Who.Reference != "Practitioner/dr1" || !e.Agent[0].Requestor ||
			e.Agent[1].Who == nil || e.Agent[1].Who.Identifier == nil || e.Agent[1].Who.Identifier.Value != "gp-app" {
			t.Errorf("event %d: agents %+v, want Practitioner/dr1 through gp-app", i, e.Agent)
		}
		if e.Agent[0].Network == nil || e.Agent[0].Network.Address != "127.0.0.1" {
			t.Errorf("event %d: no network address 127.0.0.1 on the requestor", i)
		}
		if !slices.Contains(e.refs(), "Patient/p1") {
			t.Errorf("event %d: the patient in context is not an entity: %v", i, e.refs())
		}
	}
	refused := events[4]
	if len(refused.Agent) != 1 || refused.Agent[0].Who == nil || refused.Agent[0].Who.Display != "anonymous" {
		t.Errorf("the refused request names a caller: %+v", refused.Agent)
	}
	if len(refused.refs()) != 0 {
		t.Errorf("the refused request touched %v", refused.refs())
	}
	raw := call(t, http.MethodGet, base+"/AuditEvent?_count=100", "good", "")
	for _, secret := range []string{"stolen-token", "good", "female", "lesion size"} {
		if bytes.Contains(raw.body, []byte(`"`+secret+`"`)) || bytes.Contains(raw.body, []byte("="+secret)) {
			t.Errorf("the trail holds %q, a token, search value or resource content", secret)
		}
	}

	t.Run("entities", func(t *testing.T) {
		var txResp struct {
			Entry []struct{ Response struct{ Location string } }
		}
		if err := json.Unmarshal(tx.body, &txResp); err != nil || len(txResp.Entry) != 1 {
			t.Fatalf("transaction response: %v %s", err, tx.body)
		}
		obs := strings.Join(strings.Split(txResp.Entry[0].Response.Location, "/")[:2], "/")
		if !slices.Contains(events[3].refs(), obs) {
			t.Errorf("the transaction's entities %v do not include %s", events[3].refs(), obs)
		}
		found := searchEvents(t, base, "good", "entity="+obs)
		if len(found) != 1 || found[0].subtype() != "transaction" {
			t.Errorf("entity=%s finds %d events, want the transaction", obs, len(found))
		}
	})

	// The searches of the trail are in it too, one per search, naming
	// the type searched and no event.
	if err := trail.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	searches := searchEvents(t, base, "good", "subtype=search-type&_sort=date")
	if len(searches) < 2 {
		t.Fatalf("%d search events, want the Patient search and the AuditEvent searches", len(searches))
	}
	audited := searches[1]
	if audited.Outcome != "0" || len(audited.refs()) != 1 || audited.refs()[0] != "Patient/p1" {
		t.Errorf("the AuditEvent search's event: outcome %s entities %v, want 0 and only the patient in context",
			audited.Outcome, audited.refs())
	}
	for _, q := range []string{"patient=Patient/p1", "agent=Practitioner/dr1", "agent:identifier=gp-app", "address=127.0.0.1"} {
		if n := len(searchEvents(t, base, "good", q)); n < 5 {
			t.Errorf("%s finds %d events, want every request of the practitioner (at least 5)", q, n)
		}
	}
	if n := len(searchEvents(t, base, "good", "outcome=4")); n != 1 {
		t.Errorf("outcome=4 finds %d events, want the refused read", n)
	}
}

// The trail cannot be written through the API.
func TestTrailIsReadOnlyThroughTheAPI(t *testing.T) {
	base, trail := auditedServer(t, nil)
	expect(t, call(t, http.MethodGet, base+"/metadata", "", ""), http.StatusOK, "metadata")
	if err := trail.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	events := searchEvents(t, base, "", "")
	if len(events) != 1 {
		t.Fatalf("%d events, want the capabilities read", len(events))
	}
	body := `{"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2026-01-01T00:00:00Z",` +
		`"agent":[{"requestor":true}],"source":{"observer":{"display":"forger"}}}`
	for _, w := range []struct{ method, path string }{
		{http.MethodPost, "/AuditEvent"},
		{http.MethodPut, "/AuditEvent/x"},
		{http.MethodDelete, "/AuditEvent/x"},
	} {
		if r := call(t, w.method, base+w.path, "", body); r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s answers %d, want 405: the trail is written by the server only", w.method, w.path, r.status)
		}
	}
	if err := trail.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, e := range searchEvents(t, base, "", "") {
		for _, a := range e.Agent {
			if a.Who != nil && a.Who.Display == "forger" {
				t.Fatal("a posted AuditEvent is in the trail")
			}
		}
	}
}
