package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/telederm/telederm/internal/sharedspec"
)

func backendSpec(id string, jwks []byte) ClientSpec {
	return ClientSpec{ID: id, Type: ConfidentialAsymmetric, JWKS: jwks, Scopes: []string{"system/*.rs system/Observation.c"}, Launch: []string{LaunchBackend}}
}

func TestClientCredentials(t *testing.T) {
	key, jwks := newES384(t, "hospital-a-1")
	h := newHarness(t, backendSpec("hospital-a", jwks))
	resp, body := h.backendToken(h.assertion(key, "hospital-a", nil), "system/Patient.rs system/Observation.cu openid")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Errorf("token response is cacheable")
	}
	// Observation.cu is not covered (the client may only create), openid
	// is no backend scope: only system/Patient.rs is granted.
	if body["scope"] != "system/Patient.rs" || body["token_type"] != "Bearer" || body["expires_in"] != float64(300) {
		t.Errorf("response %v", body)
	}
	if _, ok := body["refresh_token"]; ok {
		t.Error("client_credentials issued a refresh token")
	}
	tok := body["access_token"].(string)
	resp, grant := h.fhirGet(tok)
	if resp.StatusCode != http.StatusOK || grant["ClientID"] != "hospital-a" || grant["Subject"] != "hospital-a" {
		t.Fatalf("FHIR request with the token: %d %v", resp.StatusCode, grant)
	}
	var events []string
	for _, e := range h.audit.all() {
		events = append(events, e.Action+":"+e.ClientID)
		for _, s := range []string{e.Detail, e.Subject} {
			if strings.Contains(s, tok) {
				t.Errorf("audit event carries the token")
			}
		}
	}
	if strings.Join(events, ",") != "auth-token:hospital-a" {
		t.Errorf("audit events %v", events)
	}
}

// TestClientCredentialsRejections: every way a client assertion can be
// wrong is refused with invalid_client, and nothing is issued.
func TestClientCredentialsRejections(t *testing.T) {
	key, jwks := newES384(t, "k1")
	other, _ := newES384(t, "k1") // same kid, another key
	h := newHarness(t, backendSpec("hospital-a", jwks),
		ClientSpec{ID: "gp-app", Type: ConfidentialSymmetric, Scopes: []string{"system/*.rs"}, Launch: []string{LaunchEHR}, RedirectURIs: []string{"https://app.example/cb"}})
	rsaRaw, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaKey, _ := jwk.FromRaw(rsaRaw)
	_ = rsaKey.Set(jwk.KeyIDKey, "k1")

	replayed := h.assertion(key, "hospital-a", nil)
	if resp, body := h.backendToken(replayed, "system/*.rs"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d %v", resp.StatusCode, body)
	}
	now := h.clock.Now()
	tests := []struct {
		name      string
		assertion string
		scope     string
		status    int
		code      string
	}{
		{"replayed jti", replayed, "system/*.rs", 401, "invalid_client"},
		{"exp too far ahead", h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { c["exp"] = now.Add(10 * time.Minute).Unix() }), "system/*.rs", 401, "invalid_client"},
		{"no exp", h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { delete(c, "exp") }), "system/*.rs", 401, "invalid_client"},
		{"expired", h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), "system/*.rs", 401, "invalid_client"},
		{"no jti", h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { delete(c, "jti") }), "system/*.rs", 401, "invalid_client"},
		{"wrong aud", h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { c["aud"] = "https://elsewhere.example/token" }), "system/*.rs", 401, "invalid_client"},
		{"iss differs from sub", h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { c["sub"] = "someone-else" }), "system/*.rs", 401, "invalid_client"},
		{"unknown kid", h.assertion(key, "hospital-a", func(_ map[string]any, hd jws.Headers) { _ = hd.Set(jws.KeyIDKey, "nope") }), "system/*.rs", 401, "invalid_client"},
		{"signed by another key", h.assertion(other, "hospital-a", nil), "system/*.rs", 401, "invalid_client"},
		{"RSA key for an EC kid", h.assertion(signer{key: rsaKey, alg: jwa.RS384}, "hospital-a", nil), "system/*.rs", 401, "invalid_client"},
		{"RS256 not accepted", h.assertion(signer{key: rsaKey, alg: jwa.RS256}, "hospital-a", nil), "system/*.rs", 401, "invalid_client"},
		{"unknown client", h.assertion(key, "nobody", nil), "system/*.rs", 401, "invalid_client"},
		{"not a JWT", "abc.def", "system/*.rs", 401, "invalid_client"},
		{"scope outside registration", h.assertion(key, "hospital-a", nil), "system/Patient.d", 400, "invalid_scope"},
		{"patient scope for backend", h.assertion(key, "hospital-a", nil), "patient/*.rs", 400, "invalid_scope"},
		{"no scope", h.assertion(key, "hospital-a", nil), "", 400, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.backendToken(tt.assertion, tt.scope)
			wantOAuthError(t, resp, body, tt.status, tt.code)
			if body["access_token"] != nil {
				t.Error("a token was issued")
			}
		})
	}

	t.Run("symmetric client without backend launch type", func(t *testing.T) {
		resp, body := h.post(pathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}, "gp-app")
		wantOAuthError(t, resp, body, 400, "unauthorized_client")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.base+pathToken, strings.NewReader("grant_type=client_credentials&scope=system%2F*.rs"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("gp-app", "wrong")
		resp, body := h.do(req)
		wantOAuthError(t, resp, body, 401, "invalid_client")
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("unsupported grant type", func(t *testing.T) {
		resp, body := h.post(pathToken, url.Values{"grant_type": {"password"}}, "")
		wantOAuthError(t, resp, body, 400, "unsupported_grant_type")
	})
	t.Run("repeated parameter", func(t *testing.T) {
		resp, body := h.post(pathToken, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, "")
		wantOAuthError(t, resp, body, 400, "invalid_request")
	})
}

// TestClientCredentialsSharedKeys signs assertions with the SMART sample
// RS384 and ES384 keys from ../shared/spec/smart.
func TestClientCredentialsSharedKeys(t *testing.T) {
	for _, alg := range []jwa.SignatureAlgorithm{jwa.RS384, jwa.ES384} {
		t.Run(alg.String(), func(t *testing.T) {
			priv := readShared(t, alg.String()+".private.json")
			pub := readShared(t, alg.String()+".public.json")
			set, err := jwk.Parse(priv)
			if err != nil {
				t.Fatal(err)
			}
			var key jwk.Key
			for i := 0; i < set.Len(); i++ { // the file holds the public half too
				if k, _ := set.Key(i); k != nil {
					if priv, _ := jwk.IsPrivateKey(k); priv {
						key = k
					}
				}
			}
			if key == nil {
				t.Fatal("no private key in the sample JWKS")
			}
			h := newHarness(t, backendSpec("smart-sample", pub))
			resp, body := h.backendToken(h.assertion(signer{key: key, alg: alg}, "smart-sample", nil), "system/*.rs")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, body)
			}
			if resp, _ := h.fhirGet(body["access_token"].(string)); resp.StatusCode != http.StatusOK {
				t.Fatalf("FHIR request: %d", resp.StatusCode)
			}
		})
	}
	t.Run("private JWKS refused at registration", func(t *testing.T) {
		priv := readShared(t, "RS384.private.json")
		if _, err := AddClient(t.TempDir(), backendSpec("x", priv), time.Now()); err == nil || !strings.Contains(err.Error(), "private") {
			t.Fatalf("registering a private JWKS: %v", err)
		}
	})
}

func readShared(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(sharedspec.Path("smart", name))
	if err != nil {
		t.Skipf("SMART sample keys not available (%v): this test needs ../shared/spec/smart beside the project", err)
	}
	return b
}

// TestClientCredentialsJWKSURL: a client whose keys are published at a
// URL; a new kid there is picked up by refetching.
func TestClientCredentialsJWKSURL(t *testing.T) {
	key1, jwks1 := newES384(t, "one")
	key2, jwks2 := newES384(t, "two")
	published := jwks1
	keysSrv := http.NewServeMux()
	keysSrv.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(published) })
	ks := newTestServer(t, keysSrv)
	h := newHarness(t, ClientSpec{ID: "hospital-b", Type: ConfidentialAsymmetric, JWKSURL: ks + "/jwks", Scopes: []string{"system/*.rs"}, Launch: []string{LaunchBackend}})
	if resp, body := h.backendToken(h.assertion(key1, "hospital-b", nil), "system/*.rs"); resp.StatusCode != 200 {
		t.Fatalf("key one: %d %v", resp.StatusCode, body)
	}
	published = jwks2
	h.clock.Advance(2 * time.Minute) // past the refetch interval
	if resp, body := h.backendToken(h.assertion(key2, "hospital-b", nil), "system/*.rs"); resp.StatusCode != 200 {
		t.Fatalf("key two after rotation at the client: %d %v", resp.StatusCode, body)
	}
	var doc map[string]any
	_ = json.Unmarshal(jwks2, &doc)
	if resp, body := h.backendToken(h.assertion(key1, "hospital-b", nil), "system/*.rs"); resp.StatusCode != 401 {
		t.Fatalf("key one after the client dropped it: %d %v", resp.StatusCode, body)
	}
}
