package auth

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store/mongo"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// The tests here run two authorization servers, as two `telederm serve`
// processes behind one load balancer, on one MongoDB database (an
// in-process FerretDB): each has its own connection (its own
// mongo.Store) and its own memory; they share the base URL, so that a
// token or an assertion made for one is made for the other.

// processHeader sends a request of the pair to process B; without it,
// the load balancer sends it to A.
const processHeader = "X-Test-Process"

type toProcessB struct{}

func (toProcessB) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(processHeader, "b")
	return http.DefaultTransport.RoundTrip(r)
}

// sharedState returns a function opening the state of one fresh database,
// as a process of its own (a connection of its own) each time.
func sharedState(t *testing.T) func() State {
	t.Helper()
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB to run two processes on: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	return func() State {
		s, err := mongo.Open(context.Background(), uri, mongo.Options{AllowNonAtomic: true, Quiet: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatalf("open the database: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		st, err := s.AuthState(context.Background())
		if err != nil {
			t.Fatalf("auth state: %v", err)
		}
		return st
	}
}

// twoProcesses returns harnesses of processes A and B: the same base URL,
// clients, secrets (one map) and clock; requests through b reach process
// B.
// keyRotation is Config.KeyRotation (0: the default).
func twoProcesses(t *testing.T, keyRotation time.Duration, specs ...ClientSpec) (a, b *harness) {
	t.Helper()
	state := sharedState(t)
	// The clock starts now: the database expires records by its own.
	a = &harness{t: t, dataDir: t.TempDir(), clock: &fakeClock{t: time.Now()}, audit: &memAudit{},
		secrets: map[string]string{}, patients: map[string]string{}, state: state(), keyRotation: keyRotation}
	for _, spec := range specs {
		a.addClient(spec)
	}
	a.ts = httptest.NewUnstartedServer(nil)
	a.base = "http://" + a.ts.Listener.Addr().String()
	a.srv = a.open(a.base)
	b = &harness{}
	*b = *a
	b.dataDir, b.state = t.TempDir(), state()
	b.srv = b.open(a.base)
	b.client = &http.Client{Transport: toProcessB{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	a.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	a.ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := a.srv
		if r.Header.Get(processHeader) == "b" {
			srv = b.srv
		}
		if IsAuthPath(r.URL.Path) {
			srv.Handler().ServeHTTP(w, r)
			return
		}
		g, err := srv.Authenticate(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		writeJSON(w, http.StatusOK, g)
	})
	a.ts.Start()
	t.Cleanup(a.ts.Close)
	return a, b
}

// eventually retries check until it passes or ten seconds have gone: for
// what another process learns at its next poll (about a second).
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 seconds", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTwoProcessesBackendServices: a token issued by A is accepted by B,
// and an assertion used at A is a replay at B.
func TestTwoProcessesBackendServices(t *testing.T) {
	key, jwks := newES384(t, "hospital-a-1")
	a, b := twoProcesses(t, 0, backendSpec("hospital-a", jwks))
	assertion := a.assertion(key, "hospital-a", nil)
	resp, body := a.backendToken(assertion, "system/Patient.rs")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token at A: %d %v", resp.StatusCode, body)
	}
	if resp, grant := b.fhirGet(body["access_token"].(string)); resp.StatusCode != http.StatusOK || grant["ClientID"] != "hospital-a" {
		t.Fatalf("A's token at B: %d %v", resp.StatusCode, grant)
	}
	resp, body = b.backendToken(assertion, "system/Patient.rs")
	wantOAuthError(t, resp, body, http.StatusUnauthorized, "invalid_client")

	// The same assertion sent to both at once: one token.
	assertion = a.assertion(key, "hospital-a", nil)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, h := range []*harness{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, h.base+pathToken, strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Patient.rs"},
				"client_assertion_type": {assertionType}, "client_assertion": {assertion}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := h.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 401 || codes[0] == 401 && codes[1] == 200) {
		t.Fatalf("one assertion sent to A and B at once: %v, want one 200 and one 401", codes)
	}
}

// TestTwoProcessesEHRLaunch: a launch registered at A is used at B; the
// code B issues is exchanged at A, and once only: a second exchange, at
// either, is refused and revokes the tokens of the first.
func TestTwoProcessesEHRLaunch(t *testing.T) {
	a, b := twoProcesses(t, 0, launchClients...)
	launch := a.newLaunch()
	verifier, challenge := pkce()
	q := b.redirected(b.authorize(b.authParams(launch, "launch openid fhirUser patient/*.rs offline_access", challenge)), appRedirect)
	code := q.Get("code")
	if code == "" {
		t.Fatalf("B did not take A's launch: %v", q)
	}
	// The launch is used up, at A as at B.
	_, challenge2 := pkce()
	if q := a.redirected(a.authorize(a.authParams(launch, "launch patient/*.rs", challenge2)), appRedirect); q.Get("error") != "invalid_request" {
		t.Fatalf("a used launch at A: %v", q)
	}
	resp, tokens := a.exchange(code, verifier)
	if resp.StatusCode != http.StatusOK || tokens["patient"] != "p1" {
		t.Fatalf("B's code at A: %d %v", resp.StatusCode, tokens)
	}
	access := tokens["access_token"].(string)
	if resp, _ := b.fhirGet(access); resp.StatusCode != http.StatusOK {
		t.Fatalf("the token at B: %d", resp.StatusCode)
	}
	for _, h := range []*harness{b, a} {
		resp, body := h.exchange(code, verifier)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	}
	for name, h := range map[string]*harness{"A": a, "B": b} {
		eventually(t, "the first exchange's access token refused at "+name, func() bool {
			resp, _ := h.fhirGet(access)
			return resp.StatusCode == http.StatusUnauthorized
		})
	}
	resp, body := b.refreshWith(tokens["refresh_token"].(string), "", "referral-app")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
}

// TestTwoProcessesCodeExchangedOnce: one code sent to A and B at once
// gets tokens from one of them at most, and none survive.
func TestTwoProcessesCodeExchangedOnce(t *testing.T) {
	a, b := twoProcesses(t, 0, launchClients...)
	verifier, challenge := pkce()
	code := a.redirected(a.authorize(a.authParams(a.newLaunch(), "launch patient/*.rs", challenge)), appRedirect).Get("code")
	var wg sync.WaitGroup
	bodies := make([]map[string]any, 2)
	for i, h := range []*harness{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, bodies[i] = h.exchange(code, verifier)
		}()
	}
	wg.Wait()
	issued := 0
	for _, body := range bodies {
		tok, _ := body["access_token"].(string)
		if tok == "" {
			continue
		}
		issued++
		// Presented twice: whichever exchange won has its token revoked.
		for name, h := range map[string]*harness{"A": a, "B": b} {
			eventually(t, "a token of a code exchanged twice refused at "+name, func() bool {
				resp, _ := h.fhirGet(tok)
				return resp.StatusCode == http.StatusUnauthorized
			})
		}
	}
	if issued > 1 {
		t.Fatalf("one code exchanged at A and B at once issued %d tokens", issued)
	}
}

// TestTwoProcessesRefreshReuse: a refresh token rotated at A and
// presented again at B revokes the family everywhere.
func TestTwoProcessesRefreshReuse(t *testing.T) {
	a, b := twoProcesses(t, 0, launchClients...)
	first := a.ehrLaunch("launch patient/*.rs offline_access")
	r1 := first["refresh_token"].(string)
	resp, second := a.refreshWith(r1, "", "referral-app")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh at A: %d %v", resp.StatusCode, second)
	}
	resp, body := b.refreshWith(r1, "", "referral-app")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	resp, body = a.refreshWith(second["refresh_token"].(string), "", "referral-app")
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant")
	for name, h := range map[string]*harness{"A": a, "B": b} {
		eventually(t, "the family's access token refused at "+name, func() bool {
			resp, _ := h.fhirGet(second["access_token"].(string))
			return resp.StatusCode == http.StatusUnauthorized
		})
	}
}

// TestTwoProcessesRevocation: a token revoked at A is refused at B
// within B's next poll of the revocations.
func TestTwoProcessesRevocation(t *testing.T) {
	a, b := twoProcesses(t, 0, launchClients...)
	resp, body := a.post(pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, "hospital-sym")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	tok := body["access_token"].(string)
	if resp, _ := b.fhirGet(tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("the token at B before revocation: %d", resp.StatusCode)
	}
	if resp, body := a.post(pathRevoke, url.Values{"token": {tok}}, "hospital-sym"); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke at A: %d %v", resp.StatusCode, body)
	}
	if resp, _ := a.fhirGet(tok); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked token at A: %d", resp.StatusCode)
	}
	eventually(t, "the token revoked at A refused at B", func() bool {
		resp, _ := b.fhirGet(tok)
		return resp.StatusCode == http.StatusUnauthorized
	})
}

// TestTwoProcessesKeyRotation: a key rotated by `telederm keys rotate` on
// the database, and one rotated by age, sign tokens the other process
// verifies; a rotation due at both is done once.
func TestTwoProcessesKeyRotation(t *testing.T) {
	const rotation = 24 * time.Hour
	a, b := twoProcesses(t, rotation, launchClients...)
	token := func(h *harness) string {
		t.Helper()
		resp, body := h.post(pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, "hospital-sym")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %v", resp.StatusCode, body)
		}
		return body["access_token"].(string)
	}
	if headerKID(t, token(a)) != headerKID(t, token(b)) {
		t.Fatal("A and B sign with different keys")
	}

	kid, err := Admin{State: a.state}.RotateKeys(context.Background(), a.clock.Now(), a.srv.keyLifetime())
	if err != nil {
		t.Fatal(err)
	}
	var fresh string
	eventually(t, "A signing with the rotated key", func() bool {
		fresh = token(a)
		return headerKID(t, fresh) == kid
	})
	if resp, body := b.fhirGet(fresh); resp.StatusCode != http.StatusOK {
		t.Fatalf("B verifying A's token signed with the new key: %d %v", resp.StatusCode, body)
	}

	// Past the rotation age, A and B issue at once: one new key.
	a.clock.Advance(rotation + time.Hour)
	var wg sync.WaitGroup
	toks := make([]string, 2)
	for i, h := range []*harness{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i] = token(h)
		}()
	}
	wg.Wait()
	ka, kb := headerKID(t, toks[0]), headerKID(t, toks[1])
	if ka == kid || kb == kid || ka != kb {
		t.Fatalf("after the rotation age A signs with %s and B with %s (the old key %s): want one new key", ka, kb, kid)
	}
	for name, c := range map[string]struct {
		h   *harness
		tok string
	}{"A's token at B": {b, toks[0]}, "B's token at A": {a, toks[1]}} {
		if resp, body := c.h.fhirGet(c.tok); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %v", name, resp.StatusCode, body)
		}
	}
	keys, err := Admin{State: b.state}.ListKeys(context.Background())
	// The first key's tokens have all expired: it is gone.
	if err != nil || len(keys) != 2 || keys[0].KID != ka || keys[1].KID != kid {
		t.Fatalf("keys after two rotations: %+v, %v; want %s current and %s retired", keys, err, ka, kid)
	}
}

// TestSharedStateAdoptsDataDirectory: the first server on a database
// without clients, users and keys copies its data directory's; a later
// one's data directory is not read.
func TestSharedStateAdoptsDataDirectory(t *testing.T) {
	state := sharedState(t)
	first, later := t.TempDir(), t.TempDir()
	secret, err := AddClient(first, ClientSpec{ID: "moved", Type: ConfidentialSymmetric, Scopes: []string{"system/*.rs"},
		Launch: []string{LaunchBackend}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := AddUser(first, "drsmith", "Practitioner/dr1", "", "correct horse battery", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := AddClient(later, ClientSpec{ID: "stray", Type: Public, Scopes: []string{"launch"}, Launch: []string{LaunchEHR},
		RedirectURIs: []string{appRedirect}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	kids, err := ListKeys(first)
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) == 0 { // a server that ran on the directory made one
		if _, err := RotateKeys(first, time.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
		kids, _ = ListKeys(first)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, dir := range []string{first, later} {
		if _, err := Open(Config{DataDir: dir, State: state(), BaseURL: "https://fhir.example", Logger: logger}); err != nil {
			t.Fatal(err)
		}
	}
	admin := Admin{State: state()}
	clients, err := admin.ListClients(context.Background())
	if err != nil || len(clients) != 1 || clients[0].ID != "moved" || !sameHash(secret, clients[0].SecretHash) {
		t.Fatalf("clients in the database: %+v, %v; want the first directory's", clients, err)
	}
	users, err := admin.ListUsers(context.Background())
	if err != nil || len(users) != 1 || users[0].Username != "drsmith" {
		t.Fatalf("users in the database: %+v, %v", users, err)
	}
	keys, err := admin.ListKeys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].KID != kids[0].KID {
		t.Fatalf("keys in the database: %+v, %v; want the first directory's %s", keys, err, kids[0].KID)
	}
}

// TestTwoProcessesStandaloneLaunch: a user signs in at A and approves at
// B (the sign-in transaction is in the database), and the code B issues
// is exchanged at A.
func TestTwoProcessesStandaloneLaunch(t *testing.T) {
	a, b := twoProcesses(t, 0, launchClients...)
	if err := (Admin{State: a.state}).AddUser(context.Background(), "drsmith", "Practitioner/dr1", "", "correct horse battery", a.clock.Now()); err != nil {
		t.Fatal(err)
	}
	br := a.browser()
	verifier, challenge := pkce()
	html, f := br.signIn("drsmith", "correct horse battery", "launch/patient openid fhirUser patient/*.rs", challenge)
	if !strings.Contains(html, "Approve") {
		t.Fatalf("approval page at A: %s", html)
	}
	br.c.Transport = toProcessB{} // the same browser (and cookies), now sent to B
	f.Set("decision", "approve")
	f.Set("patient", "p5")
	resp, html, _ := br.page(http.MethodPost, pathApprove, f)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("approval at B: %d %s", resp.StatusCode, html)
	}
	q := b.redirected(resp, appRedirect)
	resp, tok := a.exchange(q.Get("code"), verifier)
	if resp.StatusCode != http.StatusOK || tok["patient"] != "p5" || tok["scope"] != "launch/patient openid fhirUser patient/*.rs" {
		t.Fatalf("B's code at A: %d %v", resp.StatusCode, tok)
	}
	// The transaction ended with the approval, at both.
	if resp, _, _ := br.page(http.MethodPost, pathApprove, f); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("approving again at B: %d, want 403", resp.StatusCode)
	}
	br.c.Transport = nil
	if resp, _, _ := br.page(http.MethodPost, pathApprove, f); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("approving again at A: %d, want 403", resp.StatusCode)
	}
}

// TestTwoProcessesClientRegistry: a client added to (and removed from)
// the database while both processes run is honoured (and refused) by
// both within their next poll.
func TestTwoProcessesClientRegistry(t *testing.T) {
	a, b := twoProcesses(t, 0)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}
	if resp, body := b.post(pathToken, form, "late"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown client at B: %d %v", resp.StatusCode, body)
	}
	a.addClient(ClientSpec{ID: "late", Type: ConfidentialSymmetric, Scopes: []string{"system/*.rs"}, Launch: []string{LaunchBackend}})
	for name, h := range map[string]*harness{"A": a, "B": b} {
		eventually(t, "the client added while "+name+" runs", func() bool {
			resp, _ := h.post(pathToken, form, "late")
			return resp.StatusCode == http.StatusOK
		})
	}
	if err := (Admin{State: b.state}).RemoveClient(context.Background(), "late"); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*harness{"A": a, "B": b} {
		eventually(t, "the removed client refused at "+name, func() bool {
			resp, _ := h.post(pathToken, form, "late")
			return resp.StatusCode == http.StatusUnauthorized
		})
	}
}
