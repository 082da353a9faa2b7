package auth

import (
	"net/http"
	"net/url"
	"time"
)

// introspection is an RFC 7662 response. Inactive tokens get
// {"active":false} and nothing else.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Expires   int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  audience `json:"aud,omitempty"`
	JTI       string   `json:"jti,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Patient   string   `json:"patient,omitempty"`
	Encounter string   `json:"encounter,omitempty"`
	FHIRUser  string   `json:"fhirUser,omitempty"` // absolute URL, as in the id_token
}

// introspect is POST /auth/introspect, for authenticated (confidential)
// clients: is this access or refresh token active, and what does it carry?
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	form, e := readForm(w, r)
	var c *registeredClient
	if e == nil {
		var method string
		c, method, e = s.authenticateClient(r, form, s.url(pathIntrospect))
		if e == nil && method == authNone {
			e = errInvalidClient("introspection needs an authenticated (confidential) client")
		}
	}
	if e == nil && form.Get("token") == "" {
		e = errInvalidRequest("token is required")
	}
	if e != nil {
		s.recordError(r, actIntrospect, form.Get("client_id"), e)
		writeOAuthError(w, e)
		return
	}
	out := s.inspect(form.Get("token"), form.Get("token_type_hint"))
	d := decision{action: actIntrospect, status: http.StatusOK, clientID: c.ID}
	if !out.Active {
		d.detail = "inactive token"
	}
	s.record(r, d)
	writeJSON(w, http.StatusOK, out)
}

// inspect reads a token as an access token, then as a refresh token.
func (s *Server) inspect(tok, hint string) introspection {
	now := s.now()
	if hint != "refresh_token" {
		if c, err := s.checkAccessToken(tok, now); err == nil {
			return s.accessIntrospection(c)
		}
	}
	if rec, state, err := s.refresh.lookup(tok); err == nil && state == refreshValid {
		out := introspection{Active: true, Scope: rec.Context.Scope, ClientID: rec.Context.ClientID, Subject: rec.Context.Subject,
			Expires: rec.Expires.Unix(), IssuedAt: rec.AuthTime.Unix(), Issuer: s.base, TokenType: "refresh_token",
			Patient: rec.Context.Patient, Encounter: rec.Context.Encounter}
		if rec.Context.FHIRUser != "" {
			out.FHIRUser = s.base + "/" + rec.Context.FHIRUser
		}
		return out
	}
	if hint == "refresh_token" {
		if c, err := s.checkAccessToken(tok, now); err == nil {
			return s.accessIntrospection(c)
		}
	}
	return introspection{Active: false}
}

func (s *Server) accessIntrospection(c accessClaims) introspection {
	out := introspection{Active: true, Scope: c.Scope, ClientID: c.ClientID, Subject: c.Subject, Expires: c.Expires,
		IssuedAt: c.IssuedAt, Issuer: c.Issuer, Audience: c.Audience, JTI: c.JTI, TokenType: "Bearer",
		Patient: c.Patient, Encounter: c.Encounter}
	if c.FHIRUser != "" {
		out.FHIRUser = s.base + "/" + c.FHIRUser
	}
	return out
}

// revoke is POST /auth/revoke (RFC 7009). A client may revoke its own
// tokens; an unknown or already invalid token is not an error.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	form, e := readForm(w, r)
	var c *registeredClient
	if e == nil {
		c, _, e = s.authenticateClient(r, form, s.url(pathRevoke))
	}
	if e == nil && form.Get("token") == "" {
		e = errInvalidRequest("token is required")
	}
	if e == nil {
		e = s.revokeToken(c, form)
	}
	if e != nil {
		s.recordError(r, actRevoke, form.Get("client_id"), e)
		writeOAuthError(w, e)
		return
	}
	s.record(r, decision{action: actRevoke, status: http.StatusOK, clientID: c.ID})
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revokeToken(c *registeredClient, form url.Values) *oauthError {
	tok, now := form.Get("token"), s.now()
	if ac, err := s.checkAccessToken(tok, now); err == nil {
		if ac.ClientID != c.ID {
			return errUnauthorizedClient("the token was issued to another client")
		}
		if err := s.revoked.add(map[string]time.Time{ac.JTI: time.Unix(ac.Expires, 0)}); err != nil {
			s.log.Error("persist revoked tokens", "err", err)
			return errServer("the revocation could not be stored")
		}
		return nil
	}
	rec, state, err := s.refresh.lookup(tok)
	if err != nil {
		s.log.Error("refresh token store", "err", err)
		return errServer("the refresh token store cannot be read")
	}
	if state == refreshValid {
		if rec.Context.ClientID != c.ID {
			return errUnauthorizedClient("the token was issued to another client")
		}
		s.revokeGrant(nil, rec.Family)
	}
	return nil
}
