package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/telederm/telederm/internal/audit"
)

// fakeClock is a clock tests move by hand: expiry is tested without
// sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memAudit keeps recorded events.
type memAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memAudit) Record(_ context.Context, e audit.Event) {
	m.mu.Lock()
	m.events = append(m.events, e)
	m.mu.Unlock()
}

func (m *memAudit) all() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Event(nil), m.events...)
}

// harness is an authorization server on a loopback test server, with a
// stand-in FHIR endpoint (/Patient/...) that answers the caller's grant.
type harness struct {
	t       *testing.T
	srv     *Server
	ts      *httptest.Server
	base    string
	dataDir string
	clock   *fakeClock
	audit   *memAudit
	secrets map[string]string // client id -> secret
	// client follows no redirects: the tests read Location themselves.
	client *http.Client
	// patients is what FindPatient resolves: "system|value" -> id.
	patients map[string]string
	// state, when set, is the server's shared state (else dataDir's files).
	state State
	// keyRotation is Config.KeyRotation.
	keyRotation time.Duration
}

func newHarness(t *testing.T, specs ...ClientSpec) *harness {
	t.Helper()
	h := &harness{t: t, dataDir: t.TempDir(), clock: &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)},
		audit: &memAudit{}, secrets: map[string]string{}, patients: map[string]string{}}
	for _, spec := range specs {
		h.addClient(spec)
	}
	h.ts = httptest.NewUnstartedServer(nil)
	h.base = "http://" + h.ts.Listener.Addr().String()
	h.srv = h.open(h.base)
	fhir := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, err := h.srv.Authenticate(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		writeJSON(w, http.StatusOK, g)
	})
	h.ts.Config.Handler = h.srv.CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsAuthPath(r.URL.Path) {
			h.srv.Handler().ServeHTTP(w, r)
			return
		}
		fhir.ServeHTTP(w, r)
	}))
	h.ts.Start()
	t.Cleanup(h.ts.Close)
	h.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return h
}

// open starts a Server over the harness's data directory.
func (h *harness) open(base string) *Server {
	h.t.Helper()
	srv, err := Open(Config{
		DataDir: h.dataDir, State: h.state, KeyRotation: h.keyRotation, BaseURL: base, Now: h.clock.Now, Audit: h.audit,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		FindPatient: func(_ context.Context, system, value string) (string, error) {
			if id, ok := h.patients[system+"|"+value]; ok {
				return id, nil
			}
			return "", ErrNoPatient
		},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return srv
}

func (h *harness) addClient(spec ClientSpec) {
	h.t.Helper()
	admin := FileAdmin(h.dataDir)
	if h.state != nil {
		admin = Admin{State: h.state}
	}
	secret, err := admin.AddClient(context.Background(), spec, h.clock.Now())
	if err != nil {
		h.t.Fatalf("add client %s: %v", spec.ID, err)
	}
	if secret != "" {
		h.secrets[spec.ID] = secret
	}
}

// post sends a form to path; basic, when set, is the client id whose
// secret goes in HTTP Basic.
func (h *harness) post(path string, form url.Values, basic string) (*http.Response, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != "" {
		req.SetBasicAuth(basic, h.secrets[basic])
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) (*http.Response, map[string]any) {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &m); err != nil {
			h.t.Fatalf("%s %s: body is not JSON: %s", req.Method, req.URL.Path, b)
		}
	} else {
		m = map[string]any{"_body": string(b)}
	}
	return resp, m
}

// fhirGet reads the stand-in FHIR endpoint with a bearer token.
func (h *harness) fhirGet(token string) (*http.Response, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.base+"/Patient/p1", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.do(req)
}

// wantOAuthError checks an RFC 6749 error response.
func wantOAuthError(t *testing.T, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, code)
	}
	if d, _ := body["error_description"].(string); d == "" {
		t.Errorf("error %s has no error_description", code)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Errorf("error response is cacheable: Cache-Control %q Pragma %q", resp.Header.Get("Cache-Control"), resp.Header.Get("Pragma"))
	}
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = randomToken(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// signer is a client's private key.
type signer struct {
	key jwk.Key // private, with kid
	alg jwa.SignatureAlgorithm
}

// newES384 generates a P-384 key pair: the private signer and the public
// JWKS to register.
func newES384(t *testing.T, kid string) (signer, []byte) {
	t.Helper()
	raw, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := jwk.FromRaw(raw)
	_ = key.Set(jwk.KeyIDKey, kid)
	_ = key.Set(jwk.AlgorithmKey, jwa.ES384)
	pub, _ := jwk.PublicKeyOf(key)
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	b, _ := json.Marshal(set)
	return signer{key: key, alg: jwa.ES384}, b
}

// assertion signs client assertion claims (iss = sub = client, aud = the
// token endpoint, exp in four minutes, a fresh jti), changed by edit.
func (h *harness) assertion(s signer, client string, edit func(claims map[string]any, hdr jws.Headers)) string {
	h.t.Helper()
	now := h.clock.Now()
	claims := map[string]any{"iss": client, "sub": client, "aud": h.base + pathToken,
		"exp": now.Add(4 * time.Minute).Unix(), "jti": randomToken(16)}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, s.key.KeyID())
	_ = hdr.Set(jws.TypeKey, "JWT")
	if edit != nil {
		edit(claims, hdr)
	}
	key := s.key
	if hdr.KeyID() != key.KeyID() {
		// jws.Sign writes the key's own kid: sign with a copy named as the
		// header says.
		b, _ := json.Marshal(key)
		key, _ = jwk.ParseKey(b)
		_ = key.Set(jwk.KeyIDKey, hdr.KeyID())
	}
	payload, _ := json.Marshal(claims)
	b, err := jws.Sign(payload, jws.WithKey(s.alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// backendToken runs client_credentials with an assertion.
func (h *harness) backendToken(assertion, scope string) (*http.Response, map[string]any) {
	h.t.Helper()
	return h.post(pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {assertionType}, "client_assertion": {assertion}}, "")
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s...", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func newTestServer(t *testing.T, h http.Handler) string {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}
