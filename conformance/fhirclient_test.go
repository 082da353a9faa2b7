package conformance

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// fhirclientDir holds the Node test: ehr-launch.js and the npm packages
// (`make js-deps` installs them from package-lock.json).
var fhirclientDir = filepath.Join("testdata", "fhirclient")

// nodeOrSkip finds node and the installed fhirclient package. On CI their
// absence is a failure: make test installs them, so a skip there would hide
// a broken set-up.
func nodeOrSkip(t *testing.T) string {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI must run the fhirclient test: make test installs it)", what)
		}
		t.Skip(what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: the fhirclient (SMART JavaScript client) test needs Node.js")
	}
	if _, err := os.Stat(filepath.Join(fhirclientDir, "node_modules", "fhirclient", "package.json")); err != nil {
		missing("the fhirclient npm package is not installed: run `make js-deps` (npm ci --prefix conformance/testdata/fhirclient)")
	}
	return node
}

// TestFHIRClientEHRLaunch: the SMART on FHIR JavaScript client
// (fhirclient 2.6.3), which this project did not write, completes an EHR
// launch with PKCE against Telederm and reads the Patient in context.
func TestFHIRClientEHRLaunch(t *testing.T) {
	node := nodeOrSkip(t)

	// The app's port is needed before it starts: its redirect URI is
	// registered with the client.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	appPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	dir := t.TempDir()
	secrets := map[string]string{}
	for _, c := range []auth.ClientSpec{
		{ID: "hospital", Type: auth.ConfidentialSymmetric, Scopes: []string{"system/*.cruds"}, Launch: []string{auth.LaunchBackend}},
		{ID: "gp-system", Type: auth.ConfidentialSymmetric, Scopes: []string{"user/*.rs"}, Launch: []string{auth.LaunchLauncher}},
		{ID: "referral-form", Type: auth.Public, RedirectURIs: []string{"http://127.0.0.1:" + strconv.Itoa(appPort) + "/callback"},
			Scopes: []string{"launch openid fhirUser patient/*.rs"}, Launch: []string{auth.LaunchEHR}},
	} {
		s, err := auth.AddClient(dir, c, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		secrets[c.ID] = s
	}
	base := servertest.Start(t, server.Config{DataDir: dir, Auth: "smart"})

	// The hospital system stores the patient with a backend token.
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	postForm(t, base+"/auth/token", "hospital", secrets["hospital"], "application/x-www-form-urlencoded",
		"grant_type=client_credentials&scope="+url.QueryEscape("system/*.cruds"), &tok)
	patient := `{"resourceType":"Patient","id":"pat-js","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"family":"Okafor","given":["Ada"]}]}`
	if r := do(t, http.MethodPut, base+"/Patient/pat-js", []byte(patient), "Authorization", "Bearer "+tok.AccessToken); r.status != http.StatusCreated {
		t.Fatalf("store the patient: %d %s", r.status, r.body)
	}

	// The GP system registers the launch: the patient by NHS number, the
	// GP as the user.
	var launch struct {
		Launch string `json:"launch"`
	}
	postForm(t, base+"/auth/launch", "gp-system", secrets["gp-system"], "application/json",
		`{"patient_identifier":"https://fhir.nhs.uk/Id/nhs-number|9434765919","fhirUser":"Practitioner/gp-7"}`, &launch)

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "ehr-launch.js")
	cmd.Dir = fhirclientDir
	cmd.Env = append(os.Environ(), "ISS="+base, "LAUNCH="+launch.Launch, "CLIENT_ID=referral-form", "APP_PORT="+strconv.Itoa(appPort))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node ehr-launch.js: %v\n%s", err, stderr.String())
	}
	var got struct {
		PatientID         string         `json:"patientId"`
		Patient           map[string]any `json:"patient"`
		Scope             string         `json:"scope"`
		NeedPatientBanner *bool          `json:"needPatientBanner"`
		FHIRUser          string         `json:"fhirUser"`
		HasIDToken        bool           `json:"hasIdToken"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("fhirclient output %q: %v", out, err)
	}
	t.Logf("fhirclient: patient %s, scope %q, fhirUser %s", got.PatientID, got.Scope, got.FHIRUser)
	if got.PatientID != "pat-js" || got.Patient["resourceType"] != "Patient" || got.Patient["id"] != "pat-js" {
		t.Errorf("fhirclient read patient %q: %v", got.PatientID, got.Patient)
	}
	if !got.HasIDToken || got.FHIRUser != "Practitioner/gp-7" {
		t.Errorf("id_token %v, fhirUser %q; want an id_token naming Practitioner/gp-7", got.HasIDToken, got.FHIRUser)
	}
	if got.NeedPatientBanner == nil || !strings.Contains(got.Scope, "patient/") {
		t.Errorf("token response: need_patient_banner %v, scope %q", got.NeedPatientBanner, got.Scope)
	}
}

// postForm sends a client-authenticated POST and decodes the JSON answer,
// failing the test on anything but 200 or 201.
func postForm(t *testing.T, u, clientID, secret, contentType, body string, dst any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.SetBasicAuth(clientID, secret)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		var e map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("POST %s: %d %v", u, resp.StatusCode, e)
	}
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
}
