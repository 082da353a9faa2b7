package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/telederm/telederm/internal/access"
)

// accessClaims is the payload of an access token.
type accessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	JTI       string   `json:"jti"`
	IssuedAt  int64    `json:"iat"`
	Expires   int64    `json:"exp"`
	FHIRUser  string   `json:"fhirUser,omitempty"` // relative: Practitioner/123
	Patient   string   `json:"patient,omitempty"`
	Encounter string   `json:"encounter,omitempty"`
}

// tokenContext is who a token is for and what it carries, shared by the
// grants that issue tokens.
type tokenContext struct {
	ClientID  string `json:"client_id"`
	Subject   string `json:"sub"`
	FHIRUser  string `json:"fhir_user,omitempty"`
	Patient   string `json:"patient,omitempty"`
	Encounter string `json:"encounter,omitempty"`
	// FHIRContext is the SMART 2 fhirContext array, echoed in the token
	// response.
	FHIRContext []fhirContextItem `json:"fhir_context,omitempty"`
	// NeedBanner is need_patient_banner in the token response.
	NeedBanner bool   `json:"need_patient_banner,omitempty"`
	Scope      string `json:"scope"` // granted, space-separated as requested
	Nonce      string `json:"nonce,omitempty"`
}

type fhirContextItem struct {
	Reference string `json:"reference"`
	Role      string `json:"role,omitempty"`
}

// issuedToken is one signed access token.
type issuedToken struct {
	token   string
	jti     string
	expires time.Time
}

// issueAccessToken signs an access token for tc, living ttl.
func (s *Server) issueAccessToken(tc tokenContext, ttl time.Duration) (issuedToken, error) {
	ring, err := s.signingKeys()
	if err != nil {
		return issuedToken{}, err
	}
	now := s.now()
	exp := now.Add(ttl)
	c := accessClaims{
		Issuer: s.base, Subject: tc.Subject, Audience: audience{s.base}, ClientID: tc.ClientID,
		Scope: tc.Scope, JTI: randomToken(16), IssuedAt: now.Unix(), Expires: exp.Unix(),
		FHIRUser: tc.FHIRUser, Patient: tc.Patient, Encounter: tc.Encounter,
	}
	tok, err := signJWT(ring, typAccessToken, c)
	if err != nil {
		return issuedToken{}, err
	}
	return issuedToken{token: tok, jti: c.JTI, expires: time.Unix(c.Expires, 0)}, nil
}

// Authenticate checks the bearer token of a FHIR request and returns the
// grant it carries. It implements api.Authenticator. A token seen before
// is answered from memory (still checked for expiry and revocation);
// verifying a new one reads no file.
func (s *Server) Authenticate(r *http.Request) (*access.Grant, error) {
	tok, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	return s.verifyAccessToken(tok)
}

func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", errors.New("missing bearer token (Authorization: Bearer ...)")
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errors.New("the Authorization header must be Bearer <access token>")
	}
	return strings.TrimSpace(tok), nil
}

// verifyAccessToken turns a token into a grant, or says why it is refused.
func (s *Server) verifyAccessToken(tok string) (*access.Grant, error) {
	now := s.now()
	if g, ok := s.verified.get(tok); ok {
		if now.After(g.Expires.Add(leeway)) {
			return nil, errors.New("the access token has expired")
		}
		if s.revoked.has(g.TokenID) {
			return nil, errors.New("the access token has been revoked")
		}
		cp := *g // callers get their own copy of the shared grant
		return &cp, nil
	}
	c, err := s.checkAccessToken(tok, now)
	if err != nil {
		return nil, err
	}
	scopes, err := access.ParseScopes(c.Scope)
	if err != nil {
		return nil, errors.New("the access token carries a malformed scope")
	}
	g := &access.Grant{
		TokenID: c.JTI, ClientID: c.ClientID, Subject: c.Subject, FHIRUser: c.FHIRUser,
		Patient: c.Patient, Encounter: c.Encounter, Scopes: scopes, Expires: time.Unix(c.Expires, 0),
	}
	s.verified.put(tok, g, now)
	cp := *g
	return &cp, nil
}

// checkAccessToken verifies signature and claims of an access token.
func (s *Server) checkAccessToken(tok string, now time.Time) (accessClaims, error) {
	var c accessClaims
	p, err := parseJWS(tok)
	if err != nil {
		return c, errors.New("the access token is not a JWT issued by this server")
	}
	if p.typ != typAccessToken || p.alg != signingAlg {
		return c, errors.New("the token is not an access token of this server")
	}
	key, ok := s.verifyingKey(p.kid)
	if !ok {
		return c, errors.New("the access token was signed by a key this server does not have (unknown kid)")
	}
	if err := verifyJWS(tok, signingAlg, key); err != nil {
		return c, errors.New("the access token's signature does not verify")
	}
	if err := json.Unmarshal(p.payload, &c); err != nil {
		return c, errors.New("the access token's claims are malformed")
	}
	switch {
	case c.Issuer != s.base:
		return c, errors.New("the access token was issued by another server (iss)")
	case !c.Audience.has(s.base):
		return c, errors.New("the access token is for another server (aud)")
	case c.Expires == 0:
		return c, errors.New("the access token has no expiry")
	case now.After(time.Unix(c.Expires, 0).Add(leeway)):
		return c, errors.New("the access token has expired")
	case time.Unix(c.IssuedAt, 0).After(now.Add(leeway)):
		return c, errors.New("the access token is not valid yet (iat)")
	case c.JTI == "" || c.ClientID == "":
		return c, errors.New("the access token lacks jti or client_id")
	case s.revoked.has(c.JTI):
		return c, errors.New("the access token has been revoked")
	}
	return c, nil
}

// grantCache maps tokens already verified to their grants, so a client
// reusing its token pays for the signature once. The key is the whole
// token: only the exact bytes verified before can hit.
type grantCache struct {
	mu  sync.RWMutex
	m   map[string]*access.Grant
	max int
}

func newGrantCache(max int) *grantCache {
	return &grantCache{m: map[string]*access.Grant{}, max: max}
}

func (c *grantCache) get(tok string) (*access.Grant, bool) {
	c.mu.RLock()
	g, ok := c.m[tok]
	c.mu.RUnlock()
	return g, ok
}

func (c *grantCache) put(tok string, g *access.Grant, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, v := range c.m {
			if now.After(v.Expires.Add(leeway)) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m)
		}
	}
	c.m[tok] = g
}
