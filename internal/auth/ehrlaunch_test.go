package auth

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

func TestEHRLaunch(t *testing.T) {
	h := launchHarness(t)
	verifier, challenge := pkce()
	launch := h.newLaunch()
	resp := h.authorize(h.authParams(launch, "launch openid fhirUser patient/*.rs user/Observation.rs offline_access", challenge))
	q := h.redirected(resp, appRedirect)
	if q.Get("state") != "st-123" || q.Get("code") == "" {
		t.Fatalf("redirect %v", q)
	}
	resp, tok := h.exchange(q.Get("code"), verifier)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, tok)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Error("token response is cacheable")
	}
	want := map[string]any{"token_type": "Bearer", "patient": "p1", "encounter": "e1", "need_patient_banner": true,
		"scope": "launch openid fhirUser patient/*.rs user/Observation.rs offline_access", "expires_in": float64(3600)}
	for k, v := range want {
		if tok[k] != v {
			t.Errorf("%s = %v, want %v", k, tok[k], v)
		}
	}
	fc, _ := json.Marshal(tok["fhirContext"])
	if string(fc) != `[{"reference":"ServiceRequest/sr1","role":"https://telederm.example/referral"}]` {
		t.Errorf("fhirContext %s", fc)
	}
	if s, _ := tok["refresh_token"].(string); s == "" {
		t.Error("offline_access granted but no refresh token")
	}

	// The id_token verifies against the published JWKS.
	idt, _ := tok["id_token"].(string)
	_, jwksBody := h.do(mustGet(t, h.base+pathJWKS))
	jb, _ := json.Marshal(jwksBody)
	set, err := jwk.Parse(jb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify([]byte(idt), jws.WithKeySet(set)); err != nil {
		t.Fatalf("id_token does not verify with the JWKS: %v", err)
	}
	id := claimsOf(t, idt)
	if id["iss"] != h.base || id["aud"] != "referral-app" || id["fhirUser"] != h.base+"/Practitioner/dr1" || id["sub"] != "Practitioner/dr1" {
		t.Errorf("id_token claims %v", id)
	}

	resp, grant := h.fhirGet(tok["access_token"].(string))
	if resp.StatusCode != http.StatusOK || grant["Patient"] != "p1" || grant["FHIRUser"] != "Practitioner/dr1" || grant["Encounter"] != "e1" {
		t.Fatalf("FHIR request: %d %v", resp.StatusCode, grant)
	}

	var actions []string
	for _, e := range h.audit.all() {
		actions = append(actions, e.Action)
		for _, secret := range []string{tok["access_token"].(string), q.Get("code"), launch, verifier, h.secrets["gp-system"]} {
			if strings.Contains(e.Detail+e.Subject+e.ClientID+strings.Join(e.Entities, " "), secret) {
				t.Errorf("audit event %s carries a secret", e.Action)
			}
		}
	}
	if strings.Join(actions, ",") != "auth-launch,auth-authorize,auth-token" {
		t.Errorf("audit %v", actions)
	}
}

// TestAuthorizePost: authorize-post, the same request as a form.
func TestAuthorizePost(t *testing.T) {
	h := launchHarness(t)
	verifier, challenge := pkce()
	p := h.authParams(h.newLaunch(), "launch patient/*.rs", challenge)
	req, _ := http.NewRequest(http.MethodPost, h.base+pathAuthorize, strings.NewReader(p.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	q := h.redirected(resp, appRedirect)
	if resp, body := h.exchange(q.Get("code"), verifier); resp.StatusCode != 200 || body["id_token"] != nil || body["refresh_token"] != nil {
		t.Fatalf("exchange: %d %v (no openid, no offline_access: neither id_token nor refresh_token)", resp.StatusCode, body)
	}
}

func TestLaunchByNHSNumber(t *testing.T) {
	h := launchHarness(t)
	h.patients["https://fhir.nhs.uk/Id/nhs-number|9434765919"] = "p77"
	resp, body := h.registerLaunch("gp-system", map[string]any{"patient_identifier": "https://fhir.nhs.uk/Id/nhs-number|9434765919", "fhirUser": "Practitioner/dr1"})
	if resp.StatusCode != http.StatusCreated || body["expires_in"] != float64(300) {
		t.Fatalf("launch: %d %v", resp.StatusCode, body)
	}
	verifier, challenge := pkce()
	q := h.redirected(h.authorize(h.authParams(body["launch"].(string), "launch patient/*.rs", challenge)), appRedirect)
	if _, tok := h.exchange(q.Get("code"), verifier); tok["patient"] != "p77" {
		t.Fatalf("patient in context %v, want p77", tok["patient"])
	}
}

func TestLaunchRegistrationRejections(t *testing.T) {
	h := launchHarness(t)
	base := map[string]any{"patient": "p1", "fhirUser": "Practitioner/dr1"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range base {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		client string
		body   map[string]any
		status int
		code   string
	}{
		{"no client authentication", "", base, 401, "invalid_client"},
		{"client not registered as launcher", "hospital-sym", base, 400, "unauthorized_client"},
		{"no fhirUser", "gp-system", with("fhirUser", nil), 400, "invalid_request"},
		{"fhirUser of a type that is no user", "gp-system", with("fhirUser", "Observation/1"), 400, "invalid_request"},
		{"unknown NHS number", "gp-system", with("patient", nil), 400, "invalid_request"},
		{"patient and identifier", "gp-system", with("patient_identifier", "https://fhir.nhs.uk/Id/nhs-number|1"), 400, "invalid_request"},
		{"malformed fhirContext", "gp-system", with("fhirContext", []map[string]string{{"reference": "nonsense"}}), 400, "invalid_request"},
		{"unknown field", "gp-system", with("pateint", "p1"), 400, "invalid_request"},
	}
	tests[4].body["patient_identifier"] = "https://fhir.nhs.uk/Id/nhs-number|0000000000"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.registerLaunch(tt.client, tt.body)
			wantOAuthError(t, resp, body, tt.status, tt.code)
		})
	}
}

// TestEHRLaunchRejections: each way an authorization request or a code
// exchange can be wrong.
func TestEHRLaunchRejections(t *testing.T) {
	h := launchHarness(t)
	scope := "launch patient/*.rs"

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		_, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(h.newLaunch(), scope, challenge)), appRedirect)
		other, _ := pkce()
		resp, body := h.exchange(q.Get("code"), other)
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("reused code revokes its tokens", func(t *testing.T) {
		verifier, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(h.newLaunch(), scope+" offline_access", challenge)), appRedirect)
		resp, first := h.exchange(q.Get("code"), verifier)
		if resp.StatusCode != 200 {
			t.Fatalf("first exchange: %d %v", resp.StatusCode, first)
		}
		resp, body := h.exchange(q.Get("code"), verifier)
		wantOAuthError(t, resp, body, 400, "invalid_grant")
		if resp, _ := h.fhirGet(first["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the first exchange's access token still works: %d", resp.StatusCode)
		}
		resp, body = h.post(pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}, "client_id": {"referral-app"}}, "")
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("reused launch id", func(t *testing.T) {
		launch := h.newLaunch()
		_, challenge := pkce()
		h.redirected(h.authorize(h.authParams(launch, scope, challenge)), appRedirect)
		q := h.redirected(h.authorize(h.authParams(launch, scope, challenge)), appRedirect)
		if q.Get("error") != "invalid_request" || q.Get("code") != "" || q.Get("state") != "st-123" {
			t.Fatalf("second use of a launch: %v", q)
		}
	})
	t.Run("expired launch", func(t *testing.T) {
		launch := h.newLaunch()
		h.clock.Advance(launchTTL + time.Second)
		_, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(launch, scope, challenge)), appRedirect)
		if q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "expired") {
			t.Fatalf("expired launch: %v", q)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		verifier, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(h.newLaunch(), scope, challenge)), appRedirect)
		h.clock.Advance(codeTTL + time.Second)
		resp, body := h.exchange(q.Get("code"), verifier)
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("code exchanged by another client", func(t *testing.T) {
		verifier, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(h.newLaunch(), scope, challenge)), appRedirect)
		resp, body := h.post(pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {appRedirect},
			"client_id": {"other-app"}, "code_verifier": {verifier}}, "")
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("redirect_uri differs at the token endpoint", func(t *testing.T) {
		verifier, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(h.newLaunch(), scope, challenge)), appRedirect)
		resp, body := h.post(pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {appRedirect + "/x"},
			"client_id": {"referral-app"}, "code_verifier": {verifier}}, "")
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("wrong redirect URI is never redirected to", func(t *testing.T) {
		_, challenge := pkce()
		p := h.authParams(h.newLaunch(), scope, challenge)
		p.Set("redirect_uri", "https://attacker.example/cb")
		resp := h.authorize(p)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("unregistered redirect URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("unknown client is never redirected", func(t *testing.T) {
		_, challenge := pkce()
		p := h.authParams(h.newLaunch(), scope, challenge)
		p.Set("client_id", "nobody")
		if resp := h.authorize(p); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("unknown client: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})

	_, challenge := pkce()
	redirectErrors := []struct {
		name string
		edit func(url.Values)
		code string
	}{
		{"plain PKCE refused", func(p url.Values) { p.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no PKCE", func(p url.Values) { p.Del("code_challenge_method"); p.Del("code_challenge") }, "invalid_request"},
		{"malformed code_challenge", func(p url.Values) { p.Set("code_challenge", "short") }, "invalid_request"},
		{"wrong aud", func(p url.Values) { p.Set("aud", "https://elsewhere.example/fhir") }, "invalid_request"},
		{"no state", func(p url.Values) { p.Del("state") }, "invalid_request"},
		{"token response type", func(p url.Values) { p.Set("response_type", "token") }, "unsupported_response_type"},
		{"no launch scope", func(p url.Values) { p.Set("scope", "patient/*.rs") }, "invalid_scope"},
		{"malformed scope", func(p url.Values) { p.Set("scope", "launch patient/Observation.sr") }, "invalid_scope"},
		{"nothing grantable", func(p url.Values) { p.Set("scope", "launch system/*.rs") }, "invalid_scope"},
	}
	for _, tt := range redirectErrors {
		t.Run(tt.name, func(t *testing.T) {
			p := h.authParams(h.newLaunch(), scope, challenge)
			tt.edit(p)
			q := h.redirected(h.authorize(p), appRedirect)
			if q.Get("error") != tt.code || q.Get("error_description") == "" || q.Get("code") != "" {
				t.Fatalf("got %v, want error %s", q, tt.code)
			}
		})
	}
	t.Run("launch bound to another app", func(t *testing.T) {
		resp, body := h.registerLaunch("gp-system", map[string]any{"patient": "p1", "fhirUser": "Practitioner/dr1", "client_id": "other-app"})
		if resp.StatusCode != 201 {
			t.Fatal(body)
		}
		q := h.redirected(h.authorize(h.authParams(body["launch"].(string), scope, challenge)), appRedirect)
		if q.Get("error") != "invalid_request" {
			t.Fatalf("%v", q)
		}
	})
	t.Run("system scopes are not granted to a launched app", func(t *testing.T) {
		verifier, challenge := pkce()
		q := h.redirected(h.authorize(h.authParams(h.newLaunch(), "launch system/*.rs patient/Observation.rs", challenge)), appRedirect)
		if _, tok := h.exchange(q.Get("code"), verifier); tok["scope"] != "launch patient/Observation.rs" {
			t.Fatalf("scope %v", tok["scope"])
		}
	})
}

// TestLaunchByAssertion: a GP system with keys authenticates its launch
// request with a signed assertion in the JSON body (private_key_jwt).
func TestLaunchByAssertion(t *testing.T) {
	key, jwks := newES384(t, "gp-1")
	h := newHarness(t, append([]ClientSpec{{ID: "gp-keys", Type: ConfidentialAsymmetric, JWKS: jwks, Scopes: []string{"user/*.rs"},
		Launch: []string{LaunchLauncher}}}, launchClients...)...)
	body := map[string]any{"patient": "p1", "fhirUser": "Practitioner/dr1", "client_assertion_type": assertionType}
	for _, aud := range []string{h.base + pathLaunch, h.base + pathToken} {
		body["client_assertion"] = h.assertion(key, "gp-keys", func(c map[string]any, _ jws.Headers) { c["aud"] = aud })
		if resp, b := h.registerLaunch("", body); resp.StatusCode != 201 {
			t.Fatalf("assertion addressed to %s: %d %v", aud, resp.StatusCode, b)
		}
	}
	body["client_assertion"] = h.assertion(key, "gp-keys", func(c map[string]any, _ jws.Headers) { c["aud"] = h.base + pathIntrospect })
	resp, b := h.registerLaunch("", body)
	wantOAuthError(t, resp, b, 401, "invalid_client")
}
