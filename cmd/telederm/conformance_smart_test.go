package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// TestConformanceSMARTAgainstTelederm runs the whole suite against
// Telederm with authorization on, as an integrator would: a backend client
// registered with `telederm clients add` and its P-384 key, the runner
// getting its own token and signing the SMART tests' assertions. The SMART
// tests must run and pass, not skip.
func TestConformanceSMARTAgainstTelederm(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	pub, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	d, err := key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]string{"kty": "EC", "crv": "P-384", "kid": "conf-1", "alg": "ES384", "x": b64(pub[1:49]), "y": b64(pub[49:])}
	private := map[string]string{"d": b64(d)}
	for k, v := range public {
		private[k] = v
	}
	write := func(name string, jwk map[string]string) string {
		b, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pubFile, keyFile := write("conformance.jwks.json", public), write("conformance.private.jwks.json", private)

	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"clients", "add", "--data", dir, "--id", "conformance", "--type", "confidential-asymmetric",
		"--jwks-file", pubFile, "--scope", "system/*.cruds", "--launch", "backend"}, &out, &errOut, func(string) string { return "" }); code != 0 {
		t.Fatalf("clients add: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	base := servertest.Start(t, server.Config{DataDir: dir, Auth: "smart", SubscriptionsAllow: "127.0.0.1:*"})

	code, stdout, stderr := runConformance(t, nil, "--base", base, "--client-id", "conformance", "--key", keyFile)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, test := range []string{"smart-discovery", "smart-capability-statement", "backend-services-token",
		"forged-assertion-refused", "invalid-token-401", "insufficient-scope-403", "create-status", "transaction",
		"subscription-create", "rest-hook-delivery", "subscription-status"} {
		if !passed(stdout, test) {
			t.Errorf("%s did not pass:\n%s", test, stdout)
		}
	}

	// Without a key the runner has no token: every FHIR request is refused.
	code, stdout, _ = runConformance(t, nil, "--base", base, "--run", "^create-read/create-status$")
	if code != 1 || !strings.Contains(stdout, "401") {
		t.Errorf("without a token: exit %d\n%s", code, stdout)
	}
}

// passed reports whether the results table has the test on a line marked
// pass.
func passed(table, test string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == test && f[2] == "pass" {
			return true
		}
	}
	return false
}
