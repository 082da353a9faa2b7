package auth

import (
	"net/http"
	"testing"
	"time"
)

func TestCORS(t *testing.T) {
	h := launchHarness(t)
	tok := h.ehrLaunch("launch patient/*.rs")["access_token"].(string)
	send := func(method, path, origin string, preflight bool) *http.Response {
		req, _ := http.NewRequest(method, h.base+path, nil)
		req.Header.Set("Origin", origin)
		if preflight {
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
		} else if path == "/Patient/p1" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := h.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	app, stranger := "https://referral.example", "https://evil.example"
	tests := []struct {
		name, method, path, origin string
		preflight                  bool
		status                     int
		allow                      string
	}{
		{"discovery to anyone", "GET", "/.well-known/smart-configuration", stranger, false, 200, "*"},
		{"jwks to anyone", "GET", pathJWKS, stranger, false, 200, "*"},
		{"metadata preflight from anyone", "OPTIONS", "/metadata", stranger, true, 204, "*"},
		{"FHIR preflight from a registered app", "OPTIONS", "/Patient/p1", app, true, 204, app},
		{"FHIR read from a registered app", "GET", "/Patient/p1", app, false, 200, app},
		{"token preflight from a registered app", "OPTIONS", pathToken, app, true, 204, app},
		{"FHIR preflight from a stranger", "OPTIONS", "/Patient/p1", stranger, true, 403, ""},
		{"token preflight from a stranger", "OPTIONS", pathToken, stranger, true, 403, ""},
		{"FHIR read from a stranger gets no CORS headers", "GET", "/Patient/p1", stranger, false, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(tt.method, tt.path, tt.origin, tt.preflight)
			if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != tt.allow {
				t.Fatalf("%d allow-origin %q, want %d %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tt.status, tt.allow)
			}
			if tt.preflight && tt.status == 204 {
				if resp.Header.Get("Access-Control-Allow-Headers") == "" || resp.Header.Get("Access-Control-Allow-Methods") == "" {
					t.Error("preflight without allowed methods and headers")
				}
			}
		})
	}
	// A client registered while the server runs: its origin is allowed
	// within a second (the registry is re-read, no restart).
	h.addClient(ClientSpec{ID: "new-app", Type: Public, RedirectURIs: []string{"https://new.example/cb"}, Scopes: []string{"launch patient/*.rs"}, Launch: []string{LaunchEHR}})
	h.clock.Advance(2 * time.Second)
	if resp := send("OPTIONS", "/Patient/p1", "https://new.example", true); resp.StatusCode != 204 {
		t.Errorf("origin of a client added at run time: %d", resp.StatusCode)
	}
}
