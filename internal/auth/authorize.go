package auth

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/access"
)

// authRequest is a validated authorization request.
type authRequest struct {
	client      *registeredClient
	redirectURI string
	state       string
	nonce       string
	challenge   string
	scopes      []requestedScope // requested and registered for the client
}

// authorize is GET or POST /auth/authorize (authorize-post). An EHR
// launch (launch=...) issues the code at once: the GP system vouched for
// the user when it registered the launch. A standalone launch sends the
// user to sign in and approve first.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	params, e := authorizeParams(w, r)
	var ar *authRequest
	if e == nil {
		ar, e = s.checkClientAndRedirect(params)
	}
	if e != nil {
		// Without a known client and a registered redirect URI there is no
		// safe place to send the user: show the error (RFC 6749 4.1.2.1).
		s.recordError(r, actAuthorize, params.Get("client_id"), e)
		s.errorPage(w, e)
		return
	}
	if e := s.checkAuthRequest(ar, params); e != nil {
		s.redirectError(w, r, ar, e)
		return
	}
	if launch := params.Get("launch"); launch != "" {
		s.ehrAuthorize(w, r, ar, launch)
		return
	}
	s.startSignIn(w, r, ar)
}

// authorizeParams are the query (GET) or the form body (POST).
func authorizeParams(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		return q, noRepeats(q)
	}
	return readForm(w, r)
}

// checkClientAndRedirect validates what decides where errors may go.
func (s *Server) checkClientAndRedirect(p url.Values) (*authRequest, *oauthError) {
	id := p.Get("client_id")
	if id == "" {
		return nil, errInvalidRequest("client_id is required")
	}
	c, e := s.lookupClient(id)
	if e != nil {
		return nil, e
	}
	redirect := p.Get("redirect_uri")
	if redirect == "" {
		return nil, errInvalidRequest("redirect_uri is required")
	}
	if !contains(c.RedirectURIs, redirect) {
		return nil, errInvalidRequest("redirect_uri is not one registered for client %s (it must match exactly)", id)
	}
	return &authRequest{client: c, redirectURI: redirect, state: p.Get("state"), nonce: p.Get("nonce")}, nil
}

// checkAuthRequest validates the rest; its errors go back to the app.
func (s *Server) checkAuthRequest(ar *authRequest, p url.Values) *oauthError {
	if rt := p.Get("response_type"); rt != "code" {
		return &oauthError{status: http.StatusBadRequest, code: "unsupported_response_type", desc: "response_type must be code"}
	}
	if ar.state == "" {
		return errInvalidRequest("state is required")
	}
	if aud := strings.TrimRight(p.Get("aud"), "/"); aud != s.base {
		return errInvalidRequest("aud must be this FHIR server's base URL, %s", s.base)
	}
	switch m := p.Get("code_challenge_method"); {
	case m == "plain":
		return errInvalidRequest("code_challenge_method plain is not accepted: use S256")
	case m != "S256":
		return errInvalidRequest("PKCE is required: code_challenge_method must be S256")
	}
	ar.challenge = p.Get("code_challenge")
	if len(ar.challenge) != 43 || strings.Trim(ar.challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return errInvalidRequest("code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)")
	}
	req, e := parseRequestedScopes(p.Get("scope"))
	if e != nil {
		return e
	}
	ar.scopes = allowedBy(req, &ar.client.Client)
	return nil
}

// userScopes narrows registered scopes to what a user-facing grant can
// carry: no system/ scopes (those are for backend services), patient/
// scopes only with a patient in context, user/ scopes only for users who
// are not themselves patients.
func userScopes(req []requestedScope, patient, fhirUser string) []requestedScope {
	patientUser := strings.HasPrefix(fhirUser, "Patient/")
	return keepScopes(req, func(r requestedScope) bool {
		if r.resource == nil {
			return true
		}
		switch r.resource.Context {
		case access.PatientContext:
			return patient != ""
		case access.UserContext:
			return !patientUser
		}
		return false
	})
}

// usable reports whether granted scopes are worth a token: some resource
// access, or an identity (openid).
func usable(granted []requestedScope) bool {
	return hasResourceScope(granted) || hasScope(granted, scopeOpenID)
}

// ehrAuthorize completes an EHR launch: the launch id must be fresh and
// unused, and the app registered for EHR launches.
func (s *Server) ehrAuthorize(w http.ResponseWriter, r *http.Request, ar *authRequest, launch string) {
	c := ar.client
	if !c.may(LaunchEHR) {
		s.redirectError(w, r, ar, errUnauthorizedClient("client %s is not registered for EHR launch", c.ID))
		return
	}
	if !hasScope(ar.scopes, scopeLaunch) {
		s.redirectError(w, r, ar, errInvalidScope("an EHR launch needs the launch scope"))
		return
	}
	now := s.now()
	lc, ok, expired, err := s.takeLaunch(launch, now)
	switch {
	case err != nil:
		s.log.Error("launch store", "err", err)
		s.redirectError(w, r, ar, errServer("the launch could not be read"))
		return
	case expired:
		s.redirectError(w, r, ar, errInvalidRequest("the launch has expired (launch ids live five minutes)"))
		return
	case !ok:
		s.redirectError(w, r, ar, errInvalidRequest("the launch is unknown or has been used already"))
		return
	case lc.AppClientID != "" && lc.AppClientID != c.ID:
		s.redirectError(w, r, ar, errInvalidRequest("the launch was registered for another app"))
		return
	}
	granted := userScopes(ar.scopes, lc.Patient, lc.FHIRUser)
	if !usable(granted) {
		s.redirectError(w, r, ar, errInvalidScope("none of the requested scopes can be granted to this client in this launch"))
		return
	}
	tc := tokenContext{ClientID: c.ID, Subject: lc.FHIRUser, FHIRUser: lc.FHIRUser, Patient: lc.Patient,
		Encounter: lc.Encounter, FHIRContext: lc.FHIRContext, NeedBanner: lc.NeedBanner,
		Scope: scopeString(granted), Nonce: ar.nonce}
	s.issueCode(w, r, ar, tc, now)
}

// issueCode sends the user back to the app with a fresh code.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, ar *authRequest, tc tokenContext, authTime time.Time) {
	now := s.now()
	code := randomToken(32)
	err := s.codes.put(code, &authCode{
		ClientID: ar.client.ID, RedirectURI: ar.redirectURI, Challenge: ar.challenge, TC: tc, AuthTime: authTime,
		Expires: now.Add(codeTTL),
	})
	if err != nil {
		s.log.Error("store authorization code", "err", err)
		s.redirectError(w, r, ar, errServer("the authorization code could not be stored"))
		return
	}
	s.record(r, decision{action: actAuthorize, status: http.StatusFound, clientID: ar.client.ID, tc: &tc})
	redirectTo(w, r, ar.redirectURI, url.Values{"code": {code}, "state": {ar.state}})
}

// redirectError sends an error back to the app (RFC 6749 4.1.2.1).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, e *oauthError) {
	s.recordError(r, actAuthorize, ar.client.ID, e)
	q := url.Values{"error": {e.code}, "error_description": {e.desc}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	redirectTo(w, r, ar.redirectURI, q)
}

// redirectTo adds params to a registered redirect URI (keeping its own
// query) and redirects there.
func redirectTo(w http.ResponseWriter, r *http.Request, redirect string, params url.Values) {
	u, _ := url.Parse(redirect) // registered, so parseable
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	noStore(w)
	http.Redirect(w, r, u.String(), http.StatusFound)
}
