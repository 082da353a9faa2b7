package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

const appRedirect = "https://referral.example/callback"

// smartServer starts a server with authorization on and three clients: a
// hospital system (backend), a GP record system (launcher) and the
// referral app (public, EHR launch). It returns the base URL and the
// confidential clients' secrets.
func smartServer(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	secrets := map[string]string{}
	for _, c := range []auth.ClientSpec{
		{ID: "hospital", Type: auth.ConfidentialSymmetric, Scopes: []string{"system/*.cruds"}, Launch: []string{auth.LaunchBackend}},
		{ID: "gp-system", Type: auth.ConfidentialSymmetric, Scopes: []string{"user/*.rs"}, Launch: []string{auth.LaunchLauncher}},
		{ID: "referral-app", Type: auth.Public, RedirectURIs: []string{appRedirect}, Scopes: []string{"launch openid fhirUser patient/*.rs"}, Launch: []string{auth.LaunchEHR}},
	} {
		s, err := auth.AddClient(dir, c, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		secrets[c.ID] = s
	}
	return servertest.Start(t, server.Config{DataDir: dir, Auth: "smart"}), secrets
}

func call(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

func req(t *testing.T, method, url, body, contentType, bearer string) *http.Request {
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	return r
}

// TestEHRLaunchEndToEnd: the GP system registers a launch naming the
// patient by NHS number, the app is authorized and exchanges its code,
// and reads the patient in context through the FHIR API with its token.
func TestEHRLaunchEndToEnd(t *testing.T) {
	base, secrets := smartServer(t)

	// A hospital system, with a backend token, stores the patient.
	r := req(t, http.MethodPost, base+"/auth/token", "grant_type=client_credentials&scope=system%2F*.cruds", "application/x-www-form-urlencoded", "")
	r.SetBasicAuth("hospital", secrets["hospital"])
	resp, tok := call(t, r)
	if resp.StatusCode != 200 {
		t.Fatalf("backend token: %d %v", resp.StatusCode, tok)
	}
	patient := `{"resourceType":"Patient","id":"pat-1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"family":"Smith"}]}`
	if resp, body := call(t, req(t, http.MethodPut, base+"/Patient/pat-1", patient, "application/fhir+json", tok["access_token"].(string))); resp.StatusCode != 201 {
		t.Fatalf("store the patient: %d %v", resp.StatusCode, body)
	}

	// The GP system registers the launch.
	r = req(t, http.MethodPost, base+"/auth/launch", `{"patient_identifier":"https://fhir.nhs.uk/Id/nhs-number|9434765919","fhirUser":"Practitioner/dr1"}`, "application/json", "")
	r.SetBasicAuth("gp-system", secrets["gp-system"])
	resp, launch := call(t, r)
	if resp.StatusCode != 201 {
		t.Fatalf("launch: %d %v", resp.StatusCode, launch)
	}

	// The app, as fhirclient.js does: discovery from iss, then authorize.
	resp, conf := call(t, req(t, http.MethodGet, base+"/.well-known/smart-configuration", "", "", ""))
	if resp.StatusCode != 200 || conf["authorization_endpoint"] != base+"/auth/authorize" {
		t.Fatalf("discovery: %d %v", resp.StatusCode, conf)
	}
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"referral-app"}, "redirect_uri": {appRedirect}, "launch": {launch["launch"].(string)},
		"scope": {"launch openid fhirUser patient/*.rs"}, "state": {"xyz"}, "aud": {base},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, _ = call(t, req(t, http.MethodGet, conf["authorization_endpoint"].(string)+"?"+q.Encode(), "", "", ""))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {appRedirect},
		"client_id": {"referral-app"}, "code_verifier": {verifier}}
	resp, tok = call(t, req(t, http.MethodPost, conf["token_endpoint"].(string), form.Encode(), "application/x-www-form-urlencoded", ""))
	if resp.StatusCode != 200 || tok["patient"] != "pat-1" || tok["id_token"] == nil {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}

	// The patient in context, read with the token; without it, 401.
	resp, pat := call(t, req(t, http.MethodGet, base+"/Patient/"+tok["patient"].(string), "", "", tok["access_token"].(string)))
	if resp.StatusCode != 200 || pat["id"] != "pat-1" {
		t.Fatalf("read the patient in context: %d %v", resp.StatusCode, pat)
	}
	if resp, _ := call(t, req(t, http.MethodGet, base+"/Patient/pat-1", "", "", "")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("read without a token: %d", resp.StatusCode)
	}

	// The CapabilityStatement advertises the endpoints (oauth-uris).
	resp, capst := call(t, req(t, http.MethodGet, base+"/metadata", "", "", ""))
	b, _ := json.Marshal(capst["rest"])
	if resp.StatusCode != 200 || !strings.Contains(string(b), base+"/auth/token") || !strings.Contains(string(b), "oauth-uris") {
		t.Errorf("metadata security: %s", b)
	}
}

// TestAuthModeRequired: a server is opened with authorization on or off,
// never by default.
func TestAuthModeRequired(t *testing.T) {
	_, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir(), BaseURL: "http://localhost:1"})
	if err == nil || !strings.Contains(err.Error(), `"smart" or "off"`) {
		t.Fatalf("Open without Auth: %v", err)
	}
}
