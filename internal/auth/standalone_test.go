package auth

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is a user agent with cookies that follows no redirects.
type browser struct {
	h *harness
	c *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var hidden = regexp.MustCompile(`name="(txn|csrf)" value="([^"]*)"`)

// page fetches or posts, returning the response, its HTML and the
// hidden txn and csrf fields.
func (b *browser) page(method, path string, form url.Values) (*http.Response, string, url.Values) {
	b.h.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = b.c.Get(b.h.base + path)
	} else {
		resp, err = b.c.PostForm(b.h.base+path, form)
	}
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	fields := url.Values{}
	for _, m := range hidden.FindAllStringSubmatch(sb.String(), -1) {
		fields.Set(m[1], m[2])
	}
	return resp, sb.String(), fields
}

func standaloneHarness(t *testing.T) *harness {
	h := launchHarness(t)
	for _, u := range []struct{ name, fhirUser, patient string }{{"drsmith", "Practitioner/dr1", ""}, {"jane", "Patient/p9", ""}} {
		if err := AddUser(h.dataDir, u.name, u.fhirUser, u.patient, "correct horse battery", h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// signIn starts a standalone launch and signs in; it returns the
// approval page's fields.
func (b *browser) signIn(user, password, scope, challenge string) (string, url.Values) {
	b.h.t.Helper()
	p := b.h.authParams("", scope, challenge)
	resp, html, f := b.page(http.MethodGet, pathAuthorize+"?"+p.Encode(), nil)
	if resp.StatusCode != 200 || f.Get("txn") == "" || f.Get("csrf") == "" || !strings.Contains(html, "referral-app") {
		b.h.t.Fatalf("sign-in page: %d %s", resp.StatusCode, html)
	}
	f.Set("username", user)
	f.Set("password", password)
	_, html, f2 := b.page(http.MethodPost, pathSignIn, f)
	return html, f2
}

func TestStandaloneLaunchPractitioner(t *testing.T) {
	h := standaloneHarness(t)
	b := h.browser()
	verifier, challenge := pkce()

	html, _ := b.signIn("drsmith", "wrong password", "launch/patient openid fhirUser patient/*.rs user/*.rs", challenge)
	if !strings.Contains(html, "Wrong username or password") {
		t.Fatalf("wrong password: %s", html)
	}
	html, f := b.signIn("drsmith", "correct horse battery", "launch/patient openid fhirUser patient/*.rs user/*.rs", challenge)
	if !strings.Contains(html, "Approve") || !strings.Contains(html, `name="patient"`) || !strings.Contains(html, "patient/*.rs") {
		t.Fatalf("approval page: %s", html)
	}
	f.Set("decision", "approve")
	f.Set("patient", "p5")
	resp, _, _ := b.page(http.MethodPost, pathApprove, f)
	q := h.redirected(resp, appRedirect)
	resp, tok := h.exchange(q.Get("code"), verifier)
	if resp.StatusCode != 200 || tok["patient"] != "p5" || tok["need_patient_banner"] != true ||
		tok["scope"] != "launch/patient openid fhirUser patient/*.rs user/*.rs" {
		t.Fatalf("token: %d %v", resp.StatusCode, tok)
	}
	if id := claimsOf(t, tok["id_token"].(string)); id["sub"] != "drsmith" || id["fhirUser"] != h.base+"/Practitioner/dr1" {
		t.Errorf("id_token %v", id)
	}
	var logins []int
	for _, e := range h.audit.all() {
		if e.Action == actLogin {
			logins = append(logins, e.Status)
			if strings.Contains(e.Detail, "correct horse") || strings.Contains(e.Detail, "wrong password") {
				t.Error("a password in the audit trail")
			}
		}
	}
	if len(logins) != 2 || logins[0] != 401 || logins[1] != 200 {
		t.Errorf("login audit %v", logins)
	}
}

func TestStandaloneLaunchPatientUser(t *testing.T) {
	h := standaloneHarness(t)
	b := h.browser()
	verifier, challenge := pkce()
	html, f := b.signIn("jane", "correct horse battery", "launch/patient patient/*.rs user/*.rs", challenge)
	if strings.Contains(html, `name="patient"`) || strings.Contains(html, "user/*.rs") {
		t.Fatalf("a patient user is asked to pick a patient or offered user scopes: %s", html)
	}
	f.Set("decision", "approve")
	resp, _, _ := b.page(http.MethodPost, pathApprove, f)
	q := h.redirected(resp, appRedirect)
	if _, tok := h.exchange(q.Get("code"), verifier); tok["patient"] != "p9" || tok["scope"] != "launch/patient patient/*.rs" {
		t.Fatalf("token %v", tok)
	}
}

func TestStandaloneLaunchRejections(t *testing.T) {
	h := standaloneHarness(t)
	_, challenge := pkce()
	scope := "launch/patient patient/*.rs"

	t.Run("deny", func(t *testing.T) {
		b := h.browser()
		_, f := b.signIn("jane", "correct horse battery", scope, challenge)
		f.Set("decision", "deny")
		resp, _, _ := b.page(http.MethodPost, pathApprove, f)
		if q := h.redirected(resp, appRedirect); q.Get("error") != "access_denied" || q.Get("state") != "st-123" {
			t.Fatalf("deny: %v", q)
		}
	})
	t.Run("CSRF token missing from the form", func(t *testing.T) {
		b := h.browser()
		_, f := b.signIn("jane", "correct horse battery", scope, challenge)
		f.Del("csrf")
		f.Set("decision", "approve")
		if resp, _, _ := b.page(http.MethodPost, pathApprove, f); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("approve without CSRF token: %d", resp.StatusCode)
		}
	})
	t.Run("another browser (no CSRF cookie)", func(t *testing.T) {
		_, f := h.browser().signIn("jane", "correct horse battery", scope, challenge)
		f.Set("decision", "approve")
		if resp, _, _ := h.browser().page(http.MethodPost, pathApprove, f); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("approve from another browser: %d", resp.StatusCode)
		}
	})
	t.Run("approve before signing in", func(t *testing.T) {
		b := h.browser()
		p := h.authParams("", scope, challenge)
		_, _, f := b.page(http.MethodGet, pathAuthorize+"?"+p.Encode(), nil)
		f.Set("decision", "approve")
		if resp, _, _ := b.page(http.MethodPost, pathApprove, f); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("approve without sign-in: %d", resp.StatusCode)
		}
	})
	t.Run("practitioner must pick a patient", func(t *testing.T) {
		b := h.browser()
		_, f := b.signIn("drsmith", "correct horse battery", scope, challenge)
		f.Set("decision", "approve")
		f.Set("patient", "<script>")
		resp, html, _ := b.page(http.MethodPost, pathApprove, f)
		if resp.StatusCode != 200 || !strings.Contains(html, "Give the id of the patient") || strings.Contains(html, "<script>") {
			t.Fatalf("bad patient id: %d %s", resp.StatusCode, html)
		}
	})
	t.Run("client not registered for standalone launch", func(t *testing.T) {
		p := h.authParams("", "patient/*.rs", challenge)
		p.Set("client_id", "other-app")
		p.Set("redirect_uri", otherRedirect)
		if q := h.redirected(h.authorize(p), otherRedirect); q.Get("error") != "unauthorized_client" {
			t.Fatalf("%v", q)
		}
	})
}

// TestManagePage: a user sees the apps holding lasting access and can
// revoke one.
func TestManagePage(t *testing.T) {
	h := standaloneHarness(t)
	tok := h.ehrLaunch("launch patient/*.rs offline_access") // for Practitioner/dr1
	b := h.browser()
	_, _, f := b.page(http.MethodGet, pathManage, nil)
	f.Set("username", "drsmith")
	f.Set("password", "correct horse battery")
	_, html, f := b.page(http.MethodPost, pathSignIn, f)
	fam := regexp.MustCompile(`name="family" value="([^"]+)"`).FindStringSubmatch(html)
	if fam == nil || !strings.Contains(html, "referral-app") {
		t.Fatalf("manage page: %s", html)
	}
	f.Set("family", fam[1])
	_, html, _ = b.page(http.MethodPost, pathManage, f)
	if strings.Contains(html, "referral-app") {
		t.Errorf("grant still listed after revoking: %s", html)
	}
	if resp, _ := h.fhirGet(tok["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked grant's access token works: %d", resp.StatusCode)
	}
}
