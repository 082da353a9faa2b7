package auth

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jws"
)

func TestIntrospectionAndRevocation(t *testing.T) {
	key, jwks := newES384(t, "k1")
	h := newHarness(t, append([]ClientSpec{backendSpec("hospital-a", jwks)}, launchClients...)...)
	resp, body := h.backendToken(h.assertion(key, "hospital-a", nil), "system/*.rs")
	if resp.StatusCode != 200 {
		t.Fatal(body)
	}
	access := body["access_token"].(string)
	user := h.ehrLaunch("launch fhirUser openid patient/*.rs offline_access")

	// The introspecting client authenticates with an assertion addressed
	// to the introspection endpoint.
	introspect := func(tok, hint string) (*http.Response, map[string]any) {
		a := h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { c["aud"] = h.base + pathIntrospect })
		f := url.Values{"token": {tok}, "client_assertion_type": {assertionType}, "client_assertion": {a}}
		if hint != "" {
			f.Set("token_type_hint", hint)
		}
		return h.post(pathIntrospect, f, "")
	}
	resp, in := introspect(access, "")
	if resp.StatusCode != 200 || in["active"] != true || in["client_id"] != "hospital-a" || in["scope"] != "system/*.rs" ||
		in["token_type"] != "Bearer" || in["iss"] != h.base || in["exp"] == nil {
		t.Fatalf("active access token: %d %v", resp.StatusCode, in)
	}
	_, in = introspect(user["access_token"].(string), "access_token")
	if in["active"] != true || in["patient"] != "p1" || in["fhirUser"] != h.base+"/Practitioner/dr1" {
		t.Errorf("user token: %v", in)
	}
	_, in = introspect(user["refresh_token"].(string), "refresh_token")
	if in["active"] != true || in["token_type"] != "refresh_token" || in["client_id"] != "referral-app" {
		t.Errorf("refresh token: %v", in)
	}
	_, in = introspect("garbage", "")
	if len(in) != 1 || in["active"] != false {
		t.Errorf("garbage: %v, want only active false", in)
	}

	t.Run("public client may not introspect", func(t *testing.T) {
		resp, body := h.post(pathIntrospect, url.Values{"token": {access}, "client_id": {"referral-app"}}, "")
		wantOAuthError(t, resp, body, 401, "invalid_client")
	})
	t.Run("unauthenticated", func(t *testing.T) {
		resp, body := h.post(pathIntrospect, url.Values{"token": {access}}, "")
		wantOAuthError(t, resp, body, 401, "invalid_client")
	})
	t.Run("another client's token may not be revoked", func(t *testing.T) {
		resp, body := h.post(pathRevoke, url.Values{"token": {access}, "client_id": {"referral-app"}}, "")
		wantOAuthError(t, resp, body, 400, "unauthorized_client")
		if resp, _ := h.fhirGet(access); resp.StatusCode != 200 {
			t.Fatal("the token was revoked anyway")
		}
	})

	// Revoke the backend token (client authenticated by assertion).
	if resp, _ := h.fhirGet(access); resp.StatusCode != 200 {
		t.Fatal("token refused before revocation")
	}
	a := h.assertion(key, "hospital-a", func(c map[string]any, _ jws.Headers) { c["aud"] = h.base + pathRevoke })
	resp, body = h.post(pathRevoke, url.Values{"token": {access}, "client_assertion_type": {assertionType}, "client_assertion": {a}}, "")
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %v", resp.StatusCode, body)
	}
	if resp, _ := h.fhirGet(access); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token accepted: %d", resp.StatusCode)
	}
	if _, in := introspect(access, ""); in["active"] != false {
		t.Errorf("revoked token introspects active: %v", in)
	}

	// A public client revokes its refresh token: the grant ends.
	if resp, _ := h.post(pathRevoke, url.Values{"token": {user["refresh_token"].(string)}, "client_id": {"referral-app"}}, ""); resp.StatusCode != 200 {
		t.Fatalf("revoke refresh: %d", resp.StatusCode)
	}
	if _, in := introspect(user["refresh_token"].(string), ""); in["active"] != false {
		t.Errorf("revoked refresh token active: %v", in)
	}
	if resp, _ := h.fhirGet(user["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the access token issued with a revoked refresh token still works: %d", resp.StatusCode)
	}
	// RFC 7009: an unknown token is not an error.
	if resp, _ := h.post(pathRevoke, url.Values{"token": {"unknown"}, "client_id": {"referral-app"}}, ""); resp.StatusCode != 200 {
		t.Errorf("revoking an unknown token: %d", resp.StatusCode)
	}
}
