package auth

import (
	"net/http"
	"strings"
)

// CORS headers for browser apps (fhirclient.js and the like).
const (
	corsMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	corsHeaders = "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, X-Request-Id"
	corsExpose  = "Location, Content-Location, ETag, Last-Modified, X-Request-Id, WWW-Authenticate"
)

// CORS wraps the whole server (FHIR API and authorization server): the
// discovery documents, the JWKS and /metadata are open to any origin; the
// token endpoint and the FHIR API only to the origins of registered
// clients (taken from their redirect URIs), so that a page elsewhere
// cannot spend a user's token. It answers preflight requests itself.
func (s *Server) CORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		h := w.Header()
		h.Add("Vary", "Origin")
		switch {
		case openToAll(r.URL.Path):
			h.Set("Access-Control-Allow-Origin", "*")
		case corsPath(r.URL.Path) && s.clients.allowsOrigin(origin):
			h.Set("Access-Control-Allow-Origin", origin)
		default:
			if preflight {
				// Not an origin of a registered client: no CORS headers, so
				// the browser refuses the request it wanted to make.
				w.WriteHeader(http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExpose)
		if preflight {
			h.Set("Access-Control-Allow-Methods", corsMethods)
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// openToAll are the paths any origin may read: discovery and metadata.
func openToAll(p string) bool {
	return strings.HasPrefix(p, "/.well-known/") || p == pathJWKS || p == "/metadata"
}

// corsPath is where registered browser clients may call from script: the
// token, revocation and introspection endpoints and the FHIR API. The
// pages of the authorization flow are navigated to, never fetched.
func corsPath(p string) bool {
	switch p {
	case pathToken, pathRevoke, pathIntrospect:
		return true
	}
	return !strings.HasPrefix(p, "/auth/")
}
