package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth"
)

// BenchmarkHTTPReadByIDAuth reads Patients by id over HTTP with
// authorization off and with a SMART bearer token on every request: the
// ratio is what checking tokens costs (target: within 15%).
func BenchmarkHTTPReadByIDAuth(b *testing.B) {
	b.Run("Off", func(b *testing.B) { benchReadByIDAuth(b, "off") })
	b.Run("Smart", func(b *testing.B) { benchReadByIDAuth(b, "smart") })
}

func benchReadByIDAuth(b *testing.B, mode string) {
	dir := b.TempDir()
	secret, err := auth.AddClient(dir, auth.ClientSpec{ID: "bench", Type: auth.ConfidentialSymmetric,
		Scopes: []string{"system/*.cruds"}, Launch: []string{auth.LaunchBackend}}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := Open(context.Background(), Config{DataDir: dir, BaseURL: base, Auth: mode, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	b.Cleanup(func() { ts.Close(); _ = app.Close() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}

	token := func() string {
		if mode == "off" {
			return ""
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/auth/token", strings.NewReader("grant_type=client_credentials&scope=system%2F*.cruds"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("bench", secret)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var t struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&t); err != nil || t.AccessToken == "" {
			b.Fatalf("token: %d %v", resp.StatusCode, err)
		}
		return t.AccessToken
	}
	do := func(method, url, tok string, body []byte, want int) {
		req, _ := http.NewRequest(method, url, strings.NewReader(string(body)))
		if body != nil {
			req.Header.Set("Content-Type", "application/fhir+json")
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Errorf("%s %s: %d", method, url, resp.StatusCode)
		}
	}

	const n = 1000
	setup := token()
	ids := putPatients(b, n, func(path string, body []byte) {
		do(http.MethodPut, base+path, setup, body, http.StatusCreated)
	})
	// Each client its own token, fetched before the clock starts (signing
	// is the token endpoint's cost, not a read's).
	tokens := make([]string, 64)
	for i := range tokens {
		tokens[i] = token()
	}
	var next, worker atomic.Int64
	b.SetParallelism(16)
	cpu0, cpuOK := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tok := tokens[worker.Add(1)%int64(len(tokens))]
		for pb.Next() {
			i := next.Add(1) % n
			do(http.MethodGet, base+"/Patient/"+ids[i], tok, nil, http.StatusOK)
		}
	})
	b.StopTimer()
	reportRate(b)
	reportCPU(b, cpu0, cpuOK)
}
