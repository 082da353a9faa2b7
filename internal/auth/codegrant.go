package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// verifierPattern is RFC 7636's code_verifier: 43 to 128 unreserved
// characters.
var verifierPattern = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// codeGrant is the authorization_code grant: the code must be fresh,
// unused, issued to this client for this redirect URI, and the PKCE
// verifier must hash to its challenge. A code presented twice revokes
// what it issued the first time.
func (s *Server) codeGrant(r *http.Request, form url.Values) (grantResult, *oauthError) {
	c, _, e := s.authenticateClient(r, form, "")
	if e != nil {
		return grantResult{clientID: form.Get("client_id")}, e
	}
	res := grantResult{clientID: c.ID}
	code, redirect, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		return res, errInvalidRequest("code is required")
	case redirect == "":
		return res, errInvalidRequest("redirect_uri is required")
	case verifier == "":
		return res, errInvalidRequest("code_verifier is required (PKCE)")
	}
	now := s.now()
	ac, state, err := s.codes.redeem(code, now)
	if err != nil {
		s.log.Error("authorization code store", "err", err)
		return res, errServer("the authorization code could not be checked")
	}
	switch state {
	case codeUnknown:
		return res, errInvalidGrant("the authorization code is not valid")
	case codeExpired:
		return res, errInvalidGrant("the authorization code has expired")
	case codeReused:
		issued, err := s.codes.reused(code, ac, now)
		if err != nil {
			s.log.Error("authorization code store", "err", err)
		}
		s.revokeGrant(issued.Issued, issued.Family)
		return res, errInvalidGrant("the authorization code has been used already; the tokens issued with it are revoked")
	}
	res.tc = &ac.TC
	switch {
	case ac.ClientID != c.ID:
		return res, errInvalidGrant("the authorization code was issued to another client")
	case ac.RedirectURI != redirect:
		return res, errInvalidGrant("redirect_uri differs from the one in the authorization request")
	case !verifierPattern.MatchString(verifier):
		return res, errInvalidGrant("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	case !pkceMatches(verifier, ac.Challenge):
		return res, errInvalidGrant("code_verifier does not match the code_challenge")
	}
	resp, at, family, err := s.userTokens(ac.TC, ac.TC.Scope, ac.AuthTime, "")
	if err != nil {
		s.log.Error("issue tokens", "err", err)
		return res, errServer("the tokens could not be issued")
	}
	issued := codeIssued{Issued: map[string]time.Time{at.jti: at.expires}, Family: family}
	if err := s.codes.recordIssued(code, ac, issued, s.now()); err != nil {
		// Presented twice at once: neither exchange keeps its tokens.
		s.revokeGrant(issued.Issued, issued.Family)
		if errors.Is(err, errCodeRevoked) {
			return res, errInvalidGrant("the authorization code has been used already; the tokens issued with it are revoked")
		}
		s.log.Error("authorization code store", "err", err)
		return res, errServer("the tokens could not be issued")
	}
	res.resp = resp
	return res, nil
}

// pkceMatches checks S256: BASE64URL(SHA256(verifier)) == challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// revokeGrant revokes access tokens by jti and a refresh token family.
func (s *Server) revokeGrant(issued map[string]time.Time, family string) {
	revoked := maps.Clone(issued)
	if revoked == nil {
		revoked = map[string]time.Time{}
	}
	if family != "" {
		more, err := s.refresh.revokeFamily(family)
		if err != nil {
			s.log.Error("revoke refresh tokens", "err", err)
		}
		maps.Copy(revoked, more)
	}
	s.revokeJTIs(revoked)
}

// revokeJTIs adds access tokens to the revocation list.
func (s *Server) revokeJTIs(revoked map[string]time.Time) {
	if err := s.revoked.add(revoked); err != nil {
		s.log.Error("persist revoked tokens", "err", err)
	}
}

// refreshGrant is the refresh_token grant with rotation: the old refresh
// token stops working and a new one comes back. A refresh token used a
// second time revokes its whole family. The scope may narrow, never widen.
func (s *Server) refreshGrant(r *http.Request, form url.Values) (grantResult, *oauthError) {
	c, _, e := s.authenticateClient(r, form, "")
	if e != nil {
		return grantResult{clientID: form.Get("client_id")}, e
	}
	res := grantResult{clientID: c.ID}
	tok := form.Get("refresh_token")
	if tok == "" {
		return res, errInvalidRequest("refresh_token is required")
	}
	rec, state, err := s.refresh.lookup(tok)
	if err != nil {
		s.log.Error("refresh token store", "err", err)
		return res, errServer("the refresh token store cannot be read")
	}
	switch state {
	case refreshUnknown:
		return res, errInvalidGrant("the refresh token is not valid")
	case refreshReused:
		s.revokeGrant(nil, rec.Family)
		return res, errInvalidGrant("the refresh token has been used already; every token of this grant is revoked")
	}
	res.tc = &rec.Context
	if rec.Context.ClientID != c.ID {
		return res, errInvalidGrant("the refresh token was issued to another client")
	}
	scope := rec.Context.Scope
	if want := form.Get("scope"); want != "" {
		had := strings.Fields(scope)
		for _, t := range strings.Fields(want) {
			if !contains(had, t) {
				return res, errInvalidScope("scope %s was not granted originally; a refresh may only narrow the scope", t)
			}
		}
		scope = strings.Join(strings.Fields(want), " ")
	}
	// The rotation: of two uses of one token (here or in another
	// process), one marks it used; the other is a reuse.
	won, err := s.refresh.claim(tok, rec)
	if err != nil {
		s.log.Error("refresh token store", "err", err)
		return res, errServer("the refresh token store cannot be written")
	}
	if !won {
		s.revokeGrant(nil, rec.Family)
		return res, errInvalidGrant("the refresh token has been used already; every token of this grant is revoked")
	}
	resp, _, _, err := s.userTokens(rec.Context, scope, rec.AuthTime, rec.Family)
	if errors.Is(err, errFamilyRevoked) {
		return res, errInvalidGrant("the refresh token's grant has been revoked")
	}
	if err != nil {
		s.log.Error("issue tokens", "err", err)
		return res, errServer("the tokens could not be issued")
	}
	res.resp = resp
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
