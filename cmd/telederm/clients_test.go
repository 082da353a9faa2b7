package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cli runs telederm with args and an environment.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// publicJWKS writes a P-384 public JWKS (made with the standard library:
// only internal/auth imports a JOSE library).
func publicJWKS(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	b := pub.Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding.EncodeToString
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-384", "kid": "k1", "alg": "ES384",
		"x": enc(b[1:49]), "y": enc(b[49:])}}})
	path := filepath.Join(t.TempDir(), "hospital-a.jwks.json")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var secretLine = regexp.MustCompile(`(?m)^([A-Za-z0-9_-]{40,})$`)

func TestClientsCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, nil, "clients", "add", "--data", dir, "--id", "hospital-a", "--type", "confidential-asymmetric",
		"--jwks-file", publicJWKS(t), "--scope", "system/*.rs", "--launch", "backend")
	if code != 0 || !strings.Contains(out, "Added client hospital-a") {
		t.Fatalf("add asymmetric: %d %s %s", code, out, errs)
	}
	code, out, errs = cli(t, map[string]string{"TELEDERM_DATA": dir}, "clients", "add", "--id", "gp-system", "--type", "confidential-symmetric",
		"--scope", "user/*.rs", "--launch", "launcher", "--store", "sqlite")
	m := secretLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("add symmetric: %d %s %s", code, out, errs)
	}
	stored, _ := os.ReadFile(filepath.Join(dir, "auth", "clients.json"))
	if strings.Contains(string(stored), m[1]) {
		t.Fatal("clients.json holds the secret")
	}
	secretFile := filepath.Join(t.TempDir(), "secret")
	code, out, _ = cli(t, nil, "clients", "add", "--data", dir, "--id", "app", "--type", "confidential-symmetric", "--scope", "launch patient/*.rs",
		"--launch", "ehr,standalone", "--redirect-uri", "https://app.example/cb", "--redirect-uri", "https://app.example/cb2", "--secret-out", secretFile)
	if fi, err := os.Stat(secretFile); code != 0 || err != nil || fi.Mode().Perm() != 0o600 || secretLine.MatchString(out) {
		t.Fatalf("--secret-out: %d %s %v", code, out, err)
	}
	code, out, _ = cli(t, nil, "clients", "list", "--data", dir)
	for _, want := range []string{"hospital-a", "JWKS by value", "gp-system", "launcher", "https://app.example/cb https://app.example/cb2"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := cli(t, nil, "clients", "remove", "--data", dir, "--id", "app"); code != 0 {
		t.Error("remove failed")
	}
	bad := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"clients", "remove", "--data", dir, "--id", "app"}, 1, "no client app"},
		{[]string{"clients", "add", "--data", dir, "--type", "public"}, 2, "--id and --type"},
		{[]string{"clients", "add", "--data", dir, "--id", "x", "--type", "magic", "--scope", "launch", "--launch", "ehr"}, 1, "client type"},
		{[]string{"clients", "list", "--data", dir, "--store", "mongo"}, 2, "want a mongodb://"},
		{[]string{"clients", "frob"}, 2, "unknown subcommand"},
		{[]string{"clients"}, 2, "usage"},
	}
	for _, b := range bad {
		code, _, errs := cli(t, nil, b.args...)
		if code != b.code || !strings.Contains(errs, b.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", b.args, code, errs, b.code, b.want)
		}
	}
}

func TestUsersCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli(t, map[string]string{"TELEDERM_PASSWORD": "correct horse battery"}, "users", "add", "--data", dir,
		"--username", "drsmith", "--fhir-user", "Practitioner/dr1")
	if code != 0 {
		t.Fatalf("add: %d %s %s", code, out, errs)
	}
	stdin = strings.NewReader("another good password\n")
	t.Cleanup(func() { stdin = os.Stdin })
	if code, _, errs := cli(t, nil, "users", "add", "--data", dir, "--username", "jane", "--fhir-user", "Patient/p9"); code != 0 {
		t.Fatalf("add with the password on stdin: %s", errs)
	}
	if code, _, errs := cli(t, nil, "users", "add", "--data", dir, "--username", "x", "--fhir-user", "Patient/1", "--password", "secret123"); code != 2 || !strings.Contains(errs, "password") {
		t.Errorf("a --password flag exists: %d %s", code, errs)
	}
	code, out, _ = cli(t, nil, "users", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "drsmith") || !strings.Contains(out, "Patient/p9") || strings.Contains(out, "pbkdf2") {
		t.Errorf("list:\n%s", out)
	}
	if code, _, _ := cli(t, nil, "users", "remove", "--data", dir, "--username", "drsmith"); code != 0 {
		t.Error("remove failed")
	}
	if _, out, _ := cli(t, nil, "users", "list", "--data", dir); strings.Contains(out, "drsmith") {
		t.Error("removed user listed")
	}
}

func TestKeysCommand(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		if code, out, errs := cli(t, nil, "keys", "rotate", "--data", dir); code != 0 || !strings.Contains(out, "New signing key") {
			t.Fatalf("rotate: %d %s %s", code, out, errs)
		}
	}
	_, out, _ := cli(t, nil, "keys", "list", "--data", dir)
	if strings.Count(out, "\n") != 3 || !strings.Contains(out, "current") {
		t.Errorf("list after two rotations:\n%s", out)
	}
}

// TestServeSmartByDefault: telederm serve asks for tokens unless told
// --auth off, and a client registered while it runs gets one at once.
func TestServeSmartByDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	p := startServe(t, "--addr 127.0.0.1:0 --data "+dir)
	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/Patient", ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	for _, path := range []string{"/metadata", "/.well-known/smart-configuration", "/jwks"} {
		if resp := get(path, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	code, out, errs := cli(t, nil, "clients", "add", "--data", dir, "--id", "hospital", "--type", "confidential-symmetric",
		"--scope", "system/*.cruds", "--launch", "backend")
	m := secretLine.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("add client: %d %s %s", code, out, errs)
	}
	req, _ := http.NewRequest(http.MethodPost, p.base+"/auth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.cruds"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("hospital", m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if resp := get("/Patient", tok.AccessToken); resp.StatusCode != http.StatusOK {
		t.Errorf("search with a token: %d", resp.StatusCode)
	}
	_ = p.cmd.Process.Kill() // stop it writing before its log is read
	<-p.exited
	if strings.Contains(p.stderr.String(), tok.AccessToken) || strings.Contains(p.stderr.String(), m[1]) {
		t.Error("the server logged a token or a secret")
	}
}
