package auth

import (
	"slices"
	"strings"

	"github.com/telederm/telederm/internal/access"
)

// Scope tokens that are not resource scopes, as this server knows them.
const (
	scopeOpenID        = "openid"
	scopeFHIRUser      = "fhirUser"
	scopeProfile       = "profile"
	scopeLaunch        = "launch"
	scopeLaunchPatient = "launch/patient"
	scopeLaunchEnc     = "launch/encounter"
	scopeOffline       = "offline_access"
	scopeOnline        = "online_access"
)

// otherScopes are the non-resource tokens a client may be registered for.
var otherScopes = []string{scopeOpenID, scopeFHIRUser, scopeProfile, scopeLaunch, scopeLaunchPatient, scopeLaunchEnc, scopeOffline, scopeOnline}

// requestedScope is one token of a scope request, parsed.
type requestedScope struct {
	token    string
	resource *access.Scope // nil for openid, launch ...
}

// parseRequestedScopes reads a scope parameter; a token shaped like a
// resource scope but malformed is invalid_scope.
func parseRequestedScopes(scope string) ([]requestedScope, *oauthError) {
	var out []requestedScope
	seen := map[string]bool{}
	for _, tok := range strings.Fields(scope) {
		if seen[tok] {
			continue
		}
		seen[tok] = true
		sc, ok, err := access.ParseScope(tok)
		if err != nil {
			return nil, errInvalidScope("%v", err)
		}
		r := requestedScope{token: tok}
		if ok {
			r.resource = &sc
		}
		out = append(out, r)
	}
	return out, nil
}

// allowedBy keeps the requested scopes the client is registered for: a
// resource scope covered by one of its resource scope patterns, any other
// token only when registered as such.
func allowedBy(req []requestedScope, c *Client) []requestedScope {
	var patterns []access.Scope
	for _, t := range c.Scopes {
		if sc, ok, err := access.ParseScope(t); ok && err == nil {
			patterns = append(patterns, sc)
		}
	}
	var out []requestedScope
	for _, r := range req {
		if r.resource == nil {
			if slices.Contains(c.Scopes, r.token) {
				out = append(out, r)
			}
			continue
		}
		for _, p := range patterns {
			if p.Covers(*r.resource) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// keepScopes filters scopes by a predicate.
func keepScopes(req []requestedScope, keep func(requestedScope) bool) []requestedScope {
	var out []requestedScope
	for _, r := range req {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func scopeString(req []requestedScope) string {
	toks := make([]string, len(req))
	for i, r := range req {
		toks[i] = r.token
	}
	return strings.Join(toks, " ")
}

func hasScope(req []requestedScope, token string) bool {
	for _, r := range req {
		if r.token == token {
			return true
		}
	}
	return false
}

// hasResourceScope reports whether any scope reaches FHIR resources.
func hasResourceScope(req []requestedScope) bool {
	for _, r := range req {
		if r.resource != nil {
			return true
		}
	}
	return false
}
