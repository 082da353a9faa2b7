package auth

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

const (
	appRedirect   = "https://referral.example/callback"
	otherRedirect = "https://other.example/cb"
)

// launchClients are a GP record system that registers launches, the
// referral app it launches (a public browser app, as fhirclient.js is)
// and a second app.
var launchClients = []ClientSpec{
	{ID: "gp-system", Type: ConfidentialSymmetric, Scopes: []string{"user/*.rs"}, Launch: []string{LaunchLauncher}},
	{ID: "referral-app", Type: Public, RedirectURIs: []string{appRedirect},
		Scopes: []string{"launch launch/patient openid fhirUser profile patient/*.cruds user/*.rs offline_access online_access system/*.rs"},
		Launch: []string{LaunchEHR, LaunchStandalone}},
	{ID: "other-app", Type: Public, RedirectURIs: []string{otherRedirect}, Scopes: []string{"launch patient/*.rs"}, Launch: []string{LaunchEHR}},
	{ID: "hospital-sym", Type: ConfidentialSymmetric, Scopes: []string{"system/*.rs"}, Launch: []string{LaunchBackend}},
}

// registerLaunch posts a launch as client (HTTP Basic with its secret).
func (h *harness) registerLaunch(client string, body map[string]any) (*http.Response, map[string]any) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, h.base+pathLaunch, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if client != "" {
		req.SetBasicAuth(client, h.secrets[client])
	}
	return h.do(req)
}

// newLaunch registers the standard launch (patient p1, Practitioner/dr1)
// and returns its id.
func (h *harness) newLaunch() string {
	h.t.Helper()
	resp, body := h.registerLaunch("gp-system", map[string]any{"patient": "p1", "fhirUser": "Practitioner/dr1", "encounter": "e1",
		"fhirContext": []map[string]string{{"reference": "ServiceRequest/sr1", "role": "https://telederm.example/referral"}}})
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("register launch: %d %v", resp.StatusCode, body)
	}
	return body["launch"].(string)
}

// authParams is an app's authorization request as fhirclient.js sends it.
func (h *harness) authParams(launch, scope, challenge string) url.Values {
	p := url.Values{"response_type": {"code"}, "client_id": {"referral-app"}, "redirect_uri": {appRedirect},
		"scope": {scope}, "state": {"st-123"}, "aud": {h.base}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if launch != "" {
		p.Set("launch", launch)
	}
	return p
}

// authorize sends the user agent to the authorization endpoint (GET).
func (h *harness) authorize(p url.Values) *http.Response {
	h.t.Helper()
	resp, err := h.client.Get(h.base + pathAuthorize + "?" + p.Encode())
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// redirected returns the parameters of a redirect to the app, failing
// unless it is one.
func (h *harness) redirected(resp *http.Response, to string) url.Values {
	h.t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		h.t.Fatalf("want a redirect to the app, got %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != to {
		h.t.Fatalf("redirected to %s, want %s", got, to)
	}
	return loc.Query()
}

// exchange trades a code for tokens as a public client.
func (h *harness) exchange(code, verifier string) (*http.Response, map[string]any) {
	h.t.Helper()
	return h.post(pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect},
		"client_id": {"referral-app"}, "code_verifier": {verifier}}, "")
}

// ehrLaunch runs a whole EHR launch with scope and returns the token
// response.
func (h *harness) ehrLaunch(scope string) map[string]any {
	h.t.Helper()
	verifier, challenge := pkce()
	q := h.redirected(h.authorize(h.authParams(h.newLaunch(), scope, challenge)), appRedirect)
	if q.Get("code") == "" {
		h.t.Fatalf("no code: %v", q)
	}
	resp, body := h.exchange(q.Get("code"), verifier)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	return body
}

func launchHarness(t *testing.T) *harness {
	return newHarness(t, launchClients...)
}
