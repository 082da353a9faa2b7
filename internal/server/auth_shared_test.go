package server_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// TestTwoProcessesShareAuthorization: two server processes with SMART
// authorization on one MongoDB database (an in-process FerretDB), behind
// one public base URL: the client registered in the first process's data
// directory is the database's, a token from one is honoured by the other,
// and a revocation at one reaches the other.
func TestTwoProcessesShareAuthorization(t *testing.T) {
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB to run two processes on: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	const public = "http://fhir.example.test" // the load balancer's address
	dirA := t.TempDir()
	secret, err := auth.AddClient(dirA, auth.ClientSpec{ID: "hospital", Type: auth.ConfidentialSymmetric,
		Scopes: []string{"system/*.rs"}, Launch: []string{auth.LaunchBackend}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := func(dir string) string {
		return servertest.Process(t, server.Config{DataDir: dir, BaseURL: public, Store: uri, Auth: "smart",
			NoWorkflow: true, MongoNonAtomicTransactions: true})
	}
	a, b := start(dirA), start(t.TempDir())
	oauth := func(base, path string) (*http.Response, map[string]any) {
		r := req(t, http.MethodPost, base+path, url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"}}.Encode(),
			"application/x-www-form-urlencoded", "")
		r.SetBasicAuth("hospital", secret)
		return call(t, r)
	}
	resp, body := oauth(b, "/auth/token")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token at B for a client registered through A's data directory: %d %v", resp.StatusCode, body)
	}
	tok := body["access_token"].(string)
	read := func(base string) int {
		resp, _ := call(t, req(t, http.MethodGet, base+"/Patient?_count=1", "", "", tok))
		return resp.StatusCode
	}
	if got := read(a); got != http.StatusOK {
		t.Fatalf("B's token at A: %d", got)
	}
	r := req(t, http.MethodPost, b+"/auth/revoke", url.Values{"token": {tok}}.Encode(), "application/x-www-form-urlencoded", "")
	r.SetBasicAuth("hospital", secret)
	if resp, body := call(t, r); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke at B: %d %v", resp.StatusCode, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for read(a) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the token revoked at B is still honoured at A after 10 seconds")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
