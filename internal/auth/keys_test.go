package auth

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func jwksKIDs(t *testing.T, h *harness) []string {
	t.Helper()
	resp, body := h.do(mustGet(t, h.base+pathJWKS))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: %d", resp.StatusCode)
	}
	var kids []string
	for _, k := range body["keys"].([]any) {
		m := k.(map[string]any)
		if m["d"] != nil || m["p"] != nil {
			t.Fatal("the JWKS publishes private key material")
		}
		if m["alg"] != "RS256" || m["use"] != "sig" {
			t.Errorf("key %v", m)
		}
		kids = append(kids, m["kid"].(string))
	}
	return kids
}

func mustGet(t *testing.T, url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestKeyRotation: keys are made on first start and kept 0600; after
// `telederm keys rotate` new tokens use the new key, tokens signed by the
// old one still verify, and the old key leaves the JWKS once every token
// it signed has expired.
func TestKeyRotation(t *testing.T) {
	h, token := backendHarness(t)
	fi, err := os.Stat(filepath.Join(Dir(h.dataDir), keysFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("keys.json mode %v, want 0600", fi.Mode().Perm())
	}
	before := jwksKIDs(t, h)
	if len(before) != 1 {
		t.Fatalf("JWKS %v, want one key", before)
	}
	old := token()

	newKID, err := RotateKeys(h.dataDir, h.clock.Now(), h.srv.keyLifetime())
	if err != nil {
		t.Fatal(err)
	}
	fresh := token() // issuing picks the rotated file up
	if kid := headerKID(t, fresh); kid != newKID {
		t.Errorf("new token signed by %s, want the new key %s", kid, newKID)
	}
	if kids := jwksKIDs(t, h); len(kids) != 2 {
		t.Errorf("JWKS after rotation %v, want old and new", kids)
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if err := authenticate(h.srv, "Bearer "+tok); err != nil {
			t.Errorf("%s token after rotation: %v", name, err)
		}
	}
	// Past the longest token lifetime the old key is dropped at the next
	// issuance.
	h.clock.Advance(h.srv.keyLifetime() + time.Second)
	token()
	if kids := jwksKIDs(t, h); len(kids) != 1 || kids[0] != newKID {
		t.Errorf("JWKS after the old key's tokens expired %v, want [%s]", kids, newKID)
	}
	// A restart keeps the keys.
	again := h.open(h.base)
	if again.keys.Load().currentID != newKID {
		t.Error("a restart changed the signing key")
	}
}

// TestKeyRotationOnAge: a key older than KeyRotation is replaced at
// start-up.
func TestKeyRotationOnAge(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	r1, err := loadKeys(dir, now, 24*time.Hour, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := loadKeys(dir, now.Add(time.Hour), 24*time.Hour, time.Hour)
	if r2.currentID != r1.currentID {
		t.Fatal("a young key was rotated")
	}
	r3, _ := loadKeys(dir, now.Add(25*time.Hour), 24*time.Hour, time.Hour)
	if r3.currentID == r1.currentID || r3.public[r1.currentID] == nil {
		t.Fatalf("an old key: current %s (was %s), old still verifying %v", r3.currentID, r1.currentID, r3.public[r1.currentID] != nil)
	}
}

func headerKID(t *testing.T, tok string) string {
	p, err := parseJWS(tok)
	if err != nil {
		t.Fatal(err)
	}
	return p.kid
}

func TestDiscovery(t *testing.T) {
	h, _ := backendHarness(t)
	req := mustGet(t, h.base+"/.well-known/smart-configuration")
	req.Header.Set("Accept", "application/fhir+xml") // ignored: always JSON
	req.Header.Set("Origin", "https://anywhere.example")
	resp, doc := h.do(req)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("smart-configuration: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("smart-configuration CORS: %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// SMART App Launch 2 (Conformance): required, conditionally required
	// (sso-openid-connect, launch-*) and recommended fields.
	str := func(v any) bool { s, ok := v.(string); return ok && s != "" }
	strs := func(v any) bool {
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return false
		}
		for _, x := range a {
			if !str(x) {
				return false
			}
		}
		return true
	}
	fields := map[string]func(any) bool{
		"issuer": str, "jwks_uri": str, "authorization_endpoint": str, "token_endpoint": str,
		"grant_types_supported": strs, "token_endpoint_auth_methods_supported": strs,
		"token_endpoint_auth_signing_alg_values_supported": strs, "scopes_supported": strs,
		"response_types_supported": strs, "management_endpoint": str, "introspection_endpoint": str,
		"revocation_endpoint": str, "capabilities": strs, "code_challenge_methods_supported": strs,
	}
	for f, ok := range fields {
		if !ok(doc[f]) {
			t.Errorf("%s: %v (%T)", f, doc[f], doc[f])
		}
	}
	if _, ok := doc["registration_endpoint"]; ok {
		t.Error("registration_endpoint advertised without dynamic registration")
	}
	if got, _ := json.Marshal(doc["code_challenge_methods_supported"]); string(got) != `["S256"]` {
		t.Errorf("code_challenge_methods_supported %s", got)
	}
	wantCaps := []string{"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
		"client-confidential-asymmetric", "context-passthrough-banner", "context-ehr-patient", "context-ehr-encounter",
		"context-standalone-patient", "permission-offline", "permission-online", "permission-patient", "permission-user",
		"permission-v1", "permission-v2", "sso-openid-connect", "authorize-post"}
	have := map[string]bool{}
	for _, c := range doc["capabilities"].([]any) {
		have[c.(string)] = true
	}
	for _, c := range wantCaps {
		if !have[c] {
			t.Errorf("capability %s missing", c)
		}
	}
	if doc["issuer"] != h.base || doc["token_endpoint"] != h.base+pathToken || doc["jwks_uri"] != h.base+pathJWKS {
		t.Errorf("endpoints %v %v %v", doc["issuer"], doc["token_endpoint"], doc["jwks_uri"])
	}
	resp, oidc := h.do(mustGet(t, h.base+"/.well-known/openid-configuration"))
	if resp.StatusCode != 200 || oidc["issuer"] != h.base || !strs(oidc["id_token_signing_alg_values_supported"]) {
		t.Errorf("openid-configuration: %d %v", resp.StatusCode, oidc)
	}
}
