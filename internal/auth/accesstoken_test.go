package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// backendHarness is a harness with one backend client and a way to get
// its tokens.
func backendHarness(t *testing.T) (*harness, func() string) {
	key, jwks := newES384(t, "k1")
	h := newHarness(t, backendSpec("hospital-a", jwks))
	return h, func() string {
		t.Helper()
		resp, body := h.backendToken(h.assertion(key, "hospital-a", nil), "system/*.rs")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("token: %d %v", resp.StatusCode, body)
		}
		return body["access_token"].(string)
	}
}

func authenticate(s *Server, header string) error {
	r := httptest.NewRequest(http.MethodGet, "/Patient/1", nil)
	if header != "" {
		r.Header.Set("Authorization", header)
	}
	_, err := s.Authenticate(r)
	return err
}

// forge signs access token claims with any RSA key under any kid.
func forge(t *testing.T, key *rsa.PrivateKey, kid string, claims accessClaims) string {
	t.Helper()
	k, _ := jwk.FromRaw(key)
	_ = k.Set(jwk.KeyIDKey, kid)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.TypeKey, typAccessToken)
	payload, _ := json.Marshal(claims)
	b, err := jws.Sign(payload, jws.WithKey(jwa.RS256, k, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuthenticate(t *testing.T) {
	h, token := backendHarness(t)
	good := token()
	if err := authenticate(h.srv, "Bearer "+good); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	if err := authenticate(h.srv, "bearer "+good); err != nil {
		t.Fatalf("the scheme is case-insensitive: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, "/Patient/1", nil)
	r.Header.Set("Authorization", "Bearer "+good)
	g, _ := h.srv.Authenticate(r)
	if g.ClientID != "hospital-a" || g.TokenID == "" || len(g.Scopes.Resource) != 1 || g.Scopes.Resource[0].String() != "system/*.rs" {
		t.Errorf("grant %+v", g)
	}

	valid := accessClaims{Issuer: h.base, Subject: "x", Audience: audience{h.base}, ClientID: "hospital-a", Scope: "system/*.rs",
		JTI: "forged", IssuedAt: h.clock.Now().Unix(), Expires: h.clock.Now().Add(time.Hour).Unix()}
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	ourKID := h.srv.keys.Load().currentID

	// Another server over its own data directory: its own keys.
	otherDir := t.TempDir()
	other, err := Open(Config{DataDir: otherDir, BaseURL: h.base, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _ := other.issueAccessToken(tokenContext{ClientID: "hospital-a", Subject: "x", Scope: "system/*.rs"}, time.Hour)
	// A server at another address over the same keys: wrong iss and aud.
	elsewhere := h.open("https://elsewhere.example/fhir")
	elsewhereTok, _ := elsewhere.issueAccessToken(tokenContext{ClientID: "hospital-a", Subject: "x", Scope: "system/*.rs"}, time.Hour)
	wrongAud := valid
	wrongAud.Audience = audience{"https://elsewhere.example/fhir"}
	ring := h.srv.keys.Load()
	var ours rsa.PrivateKey
	_ = ring.current.Raw(&ours)

	tests := []struct {
		name, header, want string
	}{
		{"no header", "", "missing bearer token"},
		{"basic scheme", "Basic abc", "Bearer"},
		{"not a JWT", "Bearer abc", "not a JWT"},
		{"unknown kid", "Bearer " + otherTok.token, "unknown kid"},
		{"signed by another key under our kid", "Bearer " + forge(t, stranger, ourKID, valid), "signature"},
		{"wrong iss", "Bearer " + elsewhereTok.token, "(iss)"},
		{"wrong aud", "Bearer " + forge(t, &ours, ourKID, wrongAud), "(aud)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := authenticate(h.srv, tt.header)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
	t.Run("forged with our key verifies (the test's forge is sound)", func(t *testing.T) {
		if err := authenticate(h.srv, "Bearer "+forge(t, &ours, ourKID, valid)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		tok := token()
		if err := authenticate(h.srv, "Bearer "+tok); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(5*time.Minute + leeway + time.Second)
		// Both paths: the cached grant and a fresh verification.
		if err := authenticate(h.srv, "Bearer "+tok); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("cached expired token: %v", err)
		}
		h.srv.verified = newGrantCache(10)
		if err := authenticate(h.srv, "Bearer "+tok); err == nil || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired token: %v", err)
		}
	})
}

// TestAuthenticateRejectsIDToken: an id_token, signed by the same key, is
// not an access token.
func TestAuthenticateRejectsIDToken(t *testing.T) {
	h, _ := backendHarness(t)
	ring := h.srv.keys.Load()
	now := h.clock.Now()
	id, err := signJWT(ring, typIDToken, idClaims{Issuer: h.base, Subject: "u", Audience: h.base, IssuedAt: now.Unix(), Expires: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if err := authenticate(h.srv, "Bearer "+id); err == nil || !strings.Contains(err.Error(), "not an access token") {
		t.Fatalf("id_token as access token: %v", err)
	}
}
