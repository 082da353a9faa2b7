package auth

import (
	"net/http"
	"net/url"

	"github.com/telederm/telederm/internal/access"
)

// clientCredentials is the client_credentials grant of SMART Backend
// Services: a confidential client registered for backend use gets a
// short-lived token with the system/ scopes it asked for and may have.
func (s *Server) clientCredentials(r *http.Request, form url.Values) (grantResult, *oauthError) {
	c, method, e := s.authenticateClient(r, form, "")
	if e != nil {
		return grantResult{clientID: form.Get("client_id")}, e
	}
	res := grantResult{clientID: c.ID}
	if method == authNone {
		return res, errUnauthorizedClient("a public client cannot use client_credentials")
	}
	if !c.may(LaunchBackend) {
		return res, errUnauthorizedClient("client %s is not registered for backend services", c.ID)
	}
	if form.Get("scope") == "" {
		return res, errInvalidScope("scope is required (for example system/*.rs)")
	}
	req, e := parseRequestedScopes(form.Get("scope"))
	if e != nil {
		return res, e
	}
	granted := keepScopes(allowedBy(req, &c.Client), func(r requestedScope) bool {
		return r.resource != nil && r.resource.Context == access.SystemContext
	})
	if len(granted) == 0 {
		return res, errInvalidScope("none of the requested scopes is a system/ scope this client may have")
	}
	tc := &tokenContext{ClientID: c.ID, Subject: c.ID, Scope: scopeString(granted)}
	t, err := s.issueAccessToken(*tc, s.cfg.BackendTokenTTL)
	if err != nil {
		s.log.Error("issue access token", "err", err)
		return res, errServer("the token could not be issued")
	}
	res.resp, res.tc = bearerResponse(t, tc.Scope, s.now()), tc
	return res, nil
}
