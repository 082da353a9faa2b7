package auth

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAddClientValidation(t *testing.T) {
	_, jwks := newES384(t, "k")
	ok := ClientSpec{ID: "app", Type: Public, RedirectURIs: []string{"https://a.example/cb"}, Scopes: []string{"launch patient/*.rs"}, Launch: []string{"ehr"}}
	tests := []struct {
		name string
		edit func(*ClientSpec)
		want string
	}{
		{"valid", func(*ClientSpec) {}, ""},
		{"bad id", func(c *ClientSpec) { c.ID = "a b" }, "client id"},
		{"unknown type", func(c *ClientSpec) { c.Type = "magic" }, "client type"},
		{"no scopes", func(c *ClientSpec) { c.Scopes = nil }, "scopes"},
		{"malformed scope", func(c *ClientSpec) { c.Scopes = []string{"patient/Observation.sr"} }, "permissions"},
		{"unknown scope token", func(c *ClientSpec) { c.Scopes = []string{"superuser"} }, "neither"},
		{"unknown launch type", func(c *ClientSpec) { c.Launch = []string{"teleport"} }, "launch type"},
		{"public backend", func(c *ClientSpec) { c.Launch = []string{"backend"} }, "confidential"},
		{"public with keys", func(c *ClientSpec) { c.JWKS = jwks }, "no keys"},
		{"no redirect URI", func(c *ClientSpec) { c.RedirectURIs = nil }, "redirect URI"},
		{"relative redirect URI", func(c *ClientSpec) { c.RedirectURIs = []string{"/cb"} }, "absolute"},
		{"asymmetric without keys", func(c *ClientSpec) { c.Type = ConfidentialAsymmetric }, "JWKS"},
		{"asymmetric with both", func(c *ClientSpec) {
			c.Type, c.JWKS, c.JWKSURL = ConfidentialAsymmetric, jwks, "https://k.example/jwks"
		}, "not both"},
		{"asymmetric with garbage", func(c *ClientSpec) { c.Type, c.JWKS = ConfidentialAsymmetric, []byte("{}") }, "JWKS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := ok
			tt.edit(&spec)
			_, err := AddClient(t.TempDir(), spec, time.Now())
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestClientSecretStoredAsHash(t *testing.T) {
	dir := t.TempDir()
	secret, err := AddClient(dir, ClientSpec{ID: "gp", Type: ConfidentialSymmetric, Scopes: []string{"system/*.rs"}, Launch: []string{"backend"}}, time.Now())
	if err != nil || len(secret) < 40 {
		t.Fatalf("secret %q, %v", secret, err)
	}
	b, _ := os.ReadFile(filepath.Join(Dir(dir), clientsFile))
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), hashToken(secret)) {
		t.Fatal("clients.json holds the secret itself, or no hash of it")
	}
	if _, err := AddClient(dir, ClientSpec{ID: "gp", Type: Public, Scopes: []string{"launch"}, Launch: []string{"ehr"}, RedirectURIs: []string{"https://x.example/"}}, time.Now()); err == nil {
		t.Error("a duplicate client id was accepted")
	}
	if err := RemoveClient(dir, "gp"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveClient(dir, "gp"); err == nil {
		t.Error("removing a missing client succeeded")
	}
}

// TestClientRegistryReload: a client added or removed while the server
// runs takes effect at once on the token endpoint.
func TestClientRegistryReload(t *testing.T) {
	h := newHarness(t)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}
	if resp, body := h.post(pathToken, form, "late"); resp.StatusCode != 401 {
		t.Fatalf("unknown client: %d %v", resp.StatusCode, body)
	}
	h.addClient(ClientSpec{ID: "late", Type: ConfidentialSymmetric, Scopes: []string{"system/*.rs"}, Launch: []string{"backend"}})
	if resp, body := h.post(pathToken, form, "late"); resp.StatusCode != 200 {
		t.Fatalf("client added at run time: %d %v", resp.StatusCode, body)
	}
	if err := RemoveClient(h.dataDir, "late"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := h.post(pathToken, form, "late"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("removed client still gets tokens: %d", resp.StatusCode)
	}
}

func TestUsers(t *testing.T) {
	dir := t.TempDir()
	if err := AddUser(dir, "drsmith", "Practitioner/dr1", "", "correct horse battery", time.Now()); err != nil {
		t.Fatal(err)
	}
	users, _ := ListUsers(dir)
	parts := strings.Split(users[0].PasswordHash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		t.Fatalf("hash format %q", users[0].PasswordHash)
	}
	if n, _ := strconv.Atoi(parts[1]); n < 600_000 {
		t.Errorf("PBKDF2 iterations %d, want at least 600,000", n)
	}
	b, _ := os.ReadFile(filepath.Join(Dir(dir), usersFile))
	if strings.Contains(string(b), "correct horse") {
		t.Fatal("users.json holds the password")
	}
	store := openUserStore(Dir(dir))
	if u, _ := store.authenticate("drsmith", "correct horse battery"); u == nil || u.FHIRUser != "Practitioner/dr1" {
		t.Error("right password refused")
	}
	for _, c := range [][2]string{{"drsmith", "wrong"}, {"nobody", "correct horse battery"}} {
		if u, _ := store.authenticate(c[0], c[1]); u != nil {
			t.Errorf("%s/%s accepted", c[0], c[1])
		}
	}
	if err := AddUser(dir, "jane", "Patient/p9", "", "short", time.Now()); err == nil {
		t.Error("a 5-character password accepted")
	}
	if err := AddUser(dir, "jane", "Observation/1", "", "long enough", time.Now()); err == nil {
		t.Error("an Observation accepted as fhirUser")
	}
	if err := RemoveUser(dir, "drsmith"); err != nil {
		t.Fatal(err)
	}
	if u, _ := store.authenticate("drsmith", "correct horse battery"); u != nil {
		t.Error("a removed user signs in")
	}
}
