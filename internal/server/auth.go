package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/rest"
)

// withAuth puts the authorization server's endpoints (/.well-known/*,
// /jwks, /auth/*) in front of the FHIR API and CORS around both.
func withAuth(a *auth.Server, fhirAPI http.Handler) http.Handler {
	oauth := a.Handler()
	return a.CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.IsAuthPath(r.URL.Path) {
			oauth.ServeHTTP(w, r)
			return
		}
		fhirAPI.ServeHTTP(w, r)
	}))
}

// findPatient resolves a patient identifier (the NHS number an EHR launch
// names) with an ordinary Patient search.
func findPatient(svc *rest.Service) func(ctx context.Context, system, value string) (string, error) {
	return func(ctx context.Context, system, value string) (string, error) {
		resp := svc.Search(ctx, "Patient", url.Values{"identifier": {system + "|" + value}, "_count": {"2"}, "_elements": {"id"}}, rest.SearchOptions{})
		if resp.Status != http.StatusOK {
			return "", fmt.Errorf("patient search answered %d", resp.Status)
		}
		var b struct {
			Entry []struct {
				Resource struct{ ID string }   `json:"resource"`
				Search   struct{ Mode string } `json:"search"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(resp.Body, &b); err != nil {
			return "", fmt.Errorf("patient search: %w", err)
		}
		var ids []string
		for _, e := range b.Entry {
			if e.Search.Mode == "" || e.Search.Mode == "match" {
				ids = append(ids, e.Resource.ID)
			}
		}
		if len(ids) != 1 {
			return "", fmt.Errorf("%d patients match: %w", len(ids), auth.ErrNoPatient)
		}
		return ids[0], nil
	}
}
