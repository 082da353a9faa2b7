package auth

import (
	"net/http"
	"net/url"
	"testing"
)

func (h *harness) refreshWith(tok, scope, client string) (*http.Response, map[string]any) {
	h.t.Helper()
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}, "client_id": {client}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return h.post(pathToken, f, "")
}

func TestRefreshRotation(t *testing.T) {
	h := launchHarness(t)
	first := h.ehrLaunch("launch openid fhirUser patient/*.rs user/Observation.rs offline_access")
	r1 := first["refresh_token"].(string)

	resp, second := h.refreshWith(r1, "", "referral-app")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %v", resp.StatusCode, second)
	}
	r2, _ := second["refresh_token"].(string)
	if r2 == "" || r2 == r1 || second["access_token"] == first["access_token"] {
		t.Fatal("refresh did not rotate the refresh token")
	}
	if second["patient"] != "p1" || second["scope"] != first["scope"] || second["id_token"] == nil {
		t.Errorf("refreshed response %v", second)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("refresh response cacheable")
	}

	// A narrower scope is allowed; the refresh token keeps the original.
	resp, narrow := h.refreshWith(r2, "patient/*.rs offline_access", "referral-app")
	if resp.StatusCode != 200 || narrow["scope"] != "patient/*.rs offline_access" || narrow["id_token"] != nil {
		t.Fatalf("narrowing: %d %v", resp.StatusCode, narrow)
	}
	r3 := narrow["refresh_token"].(string)
	resp, body := h.refreshWith(r3, "patient/*.cruds", "referral-app")
	wantOAuthError(t, resp, body, 400, "invalid_scope")
	resp, body = h.refreshWith(r3, "", "other-app")
	wantOAuthError(t, resp, body, 400, "invalid_grant")

	// r3 is spent? No: scope and client errors did not use it. Rotate once
	// more, then replay the old one: the whole family is revoked.
	resp, fourth := h.refreshWith(r3, "", "referral-app")
	if resp.StatusCode != 200 || fourth["scope"] != first["scope"] {
		t.Fatalf("full scope back from the original grant: %d %v", resp.StatusCode, fourth)
	}
	resp, body = h.refreshWith(r1, "", "referral-app")
	wantOAuthError(t, resp, body, 400, "invalid_grant")
	resp, body = h.refreshWith(fourth["refresh_token"].(string), "", "referral-app")
	wantOAuthError(t, resp, body, 400, "invalid_grant")
	if resp, _ := h.fhirGet(fourth["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an access token of a revoked family still works: %d", resp.StatusCode)
	}
}

func TestRefreshOnlyWithOfflineOrOnlineAccess(t *testing.T) {
	h := launchHarness(t)
	if tok := h.ehrLaunch("launch patient/*.rs"); tok["refresh_token"] != nil {
		t.Error("a refresh token without offline_access or online_access")
	}
	online := h.ehrLaunch("launch patient/*.rs online_access")
	if online["refresh_token"] == nil {
		t.Fatal("no refresh token with online_access")
	}
	if resp, body := h.refreshWith(online["refresh_token"].(string), "", "referral-app"); resp.StatusCode != 200 {
		t.Fatalf("online refresh: %d %v", resp.StatusCode, body)
	}
	resp, body := h.refreshWith("not-a-token", "", "referral-app")
	wantOAuthError(t, resp, body, 400, "invalid_grant")
}

// TestRefreshSurvivesRestart: refresh tokens and revocations live in the
// data directory, not in the process.
func TestRefreshSurvivesRestart(t *testing.T) {
	h := launchHarness(t)
	kept := h.ehrLaunch("launch patient/*.rs offline_access")
	revoked := h.ehrLaunch("launch patient/*.rs")
	if resp, _ := h.post(pathRevoke, url.Values{"token": {revoked["access_token"].(string)}, "client_id": {"referral-app"}}, ""); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	h.srv = h.open(h.base) // the harness routes to h.srv: a restarted server over the same files
	if resp, body := h.refreshWith(kept["refresh_token"].(string), "", "referral-app"); resp.StatusCode != 200 {
		t.Fatalf("refresh after restart: %d %v", resp.StatusCode, body)
	}
	if resp, _ := h.fhirGet(revoked["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a revoked token works again after a restart: %d", resp.StatusCode)
	}
	if resp, _ := h.fhirGet(kept["access_token"].(string)); resp.StatusCode != http.StatusOK {
		t.Errorf("an unrevoked token stopped working after a restart: %d", resp.StatusCode)
	}
}
