package auth

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// assertionType is the client_assertion_type of private_key_jwt.
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgs are the signing algorithms SMART asks servers to accept
// for client assertions.
var assertionAlgs = []jwa.SignatureAlgorithm{jwa.RS384, jwa.ES384}

// Client authentication methods, as token responses and audit details name
// them.
const (
	authNone  = "none" // a public client: client_id alone
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
	authPKJWT = "private_key_jwt"
)

// authenticateClient identifies the client of an OAuth request by exactly
// one of: HTTP Basic with its secret, client_secret in the body, a signed
// client assertion, or (public clients only) client_id alone. aud is the
// URL an assertion must be addressed to besides the token endpoint (the
// endpoint receiving it), empty for the token endpoint itself.
func (s *Server) authenticateClient(r *http.Request, form url.Values, aud string) (*registeredClient, string, *oauthError) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	hasPost := form.Get("client_secret") != ""
	hasAssertion := form.Get("client_assertion") != "" || form.Get("client_assertion_type") != ""
	n := 0
	for _, b := range []bool{hasBasic, hasPost, hasAssertion} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, "", errInvalidRequest("use one client authentication method, not several")
	}
	switch {
	case hasBasic:
		// RFC 6749 2.3.1: id and secret are form-encoded before Basic.
		id, err1 := url.QueryUnescape(basicID)
		secret, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return nil, "", errInvalidClient("malformed HTTP Basic credentials")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, "", errInvalidClient("client_id in the body differs from the authenticated client")
		}
		c, e := s.checkSecret(id, secret)
		return c, authBasic, e
	case hasPost:
		c, e := s.checkSecret(form.Get("client_id"), form.Get("client_secret"))
		return c, authPost, e
	case hasAssertion:
		if form.Get("client_assertion_type") != assertionType {
			return nil, "", errInvalidClient("client_assertion_type must be %s", assertionType)
		}
		c, e := s.verifyClientAssertion(r.Context(), form.Get("client_assertion"), form.Get("client_id"), aud)
		return c, authPKJWT, e
	}
	id := form.Get("client_id")
	if id == "" {
		return nil, "", errInvalidClient("client authentication is required (client_id, a secret or a client assertion)")
	}
	c, e := s.lookupClient(id)
	if e != nil {
		return nil, "", e
	}
	if c.Type != Public {
		return nil, "", errInvalidClient("client %s is confidential and must authenticate", id)
	}
	return c, authNone, nil
}

// lookupClient finds a registered client, as invalid_client when unknown.
func (s *Server) lookupClient(id string) (*registeredClient, *oauthError) {
	c, ok, err := s.clients.get(id)
	if err != nil {
		s.log.Error("read client registry", "err", err)
		return nil, errServer("the client registry cannot be read")
	}
	if !ok {
		return nil, errInvalidClient("unknown client")
	}
	return c, nil
}

func (s *Server) checkSecret(id, secret string) (*registeredClient, *oauthError) {
	if id == "" {
		return nil, errInvalidClient("client_id is required with a client secret")
	}
	c, e := s.lookupClient(id)
	if e != nil {
		return nil, e
	}
	if c.Type != ConfidentialSymmetric || c.SecretHash == "" {
		return nil, errInvalidClient("client %s does not authenticate with a client secret", id)
	}
	if !sameHash(secret, c.SecretHash) {
		return nil, errInvalidClient("wrong client secret")
	}
	return c, nil
}

// assertionClaims are the claims of a private_key_jwt client assertion.
type assertionClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience audience `json:"aud"`
	Expires  *float64 `json:"exp"`
	NotBef   *float64 `json:"nbf"`
	JTI      string   `json:"jti"`
}

// verifyClientAssertion checks a client assertion as SMART Backend
// Services requires: RS384 or ES384, a kid in the client's JWKS, a valid
// signature, iss = sub = client_id, aud = the token endpoint, exp at most
// five minutes ahead, and a jti not seen before its exp.
func (s *Server) verifyClientAssertion(ctx context.Context, assertion, formClientID, aud string) (*registeredClient, *oauthError) {
	if assertion == "" {
		return nil, errInvalidClient("client_assertion is missing")
	}
	p, err := parseJWS(assertion)
	if err != nil {
		return nil, errInvalidClient("client_assertion is not a signed JWT")
	}
	if !algAllowed(p.alg) {
		return nil, errInvalidClient("client_assertion alg %q is not accepted: use RS384 or ES384", p.alg)
	}
	if p.kid == "" {
		return nil, errInvalidClient("client_assertion has no kid header")
	}
	var c assertionClaims
	if err := json.Unmarshal(p.payload, &c); err != nil {
		return nil, errInvalidClient("client_assertion claims are malformed")
	}
	if c.Issuer == "" || c.Issuer != c.Subject {
		return nil, errInvalidClient("client_assertion iss and sub must both be the client_id")
	}
	if formClientID != "" && formClientID != c.Issuer {
		return nil, errInvalidClient("client_id differs from the client_assertion's iss")
	}
	client, e := s.lookupClient(c.Issuer)
	if e != nil {
		return nil, e
	}
	if client.Type != ConfidentialAsymmetric {
		return nil, errInvalidClient("client %s does not authenticate with a signed assertion", client.ID)
	}
	key, err := s.clients.clientKey(ctx, client, p.kid)
	if err != nil {
		return nil, errInvalidClient("%v", err)
	}
	if !keyFitsAlg(key, p.alg) {
		return nil, errInvalidClient("key %s cannot verify alg %s", p.kid, p.alg)
	}
	if err := verifyJWS(assertion, p.alg, key); err != nil {
		return nil, errInvalidClient("client_assertion signature does not verify with key %s", p.kid)
	}
	now := s.now()
	tokenURL := s.url(pathToken)
	switch {
	case !c.Audience.has(tokenURL) && (aud == "" || !c.Audience.has(aud)):
		return nil, errInvalidClient("client_assertion aud must be the token endpoint %s", tokenURL)
	case c.Expires == nil:
		return nil, errInvalidClient("client_assertion has no exp")
	case c.JTI == "":
		return nil, errInvalidClient("client_assertion has no jti")
	}
	exp := unixTime(*c.Expires)
	switch {
	case now.After(exp.Add(leeway)):
		return nil, errInvalidClient("client_assertion has expired")
	case exp.After(now.Add(maxAssertionLife + leeway)):
		return nil, errInvalidClient("client_assertion exp is more than five minutes ahead")
	case c.NotBef != nil && unixTime(*c.NotBef).After(now.Add(leeway)):
		return nil, errInvalidClient("client_assertion is not valid yet (nbf)")
	}
	// Seen once, here or in another process: the insert decides.
	fresh, err := claim(s.state, kindAssertion, hashToken(client.ID+"\x00"+c.JTI), exp.Add(leeway))
	if err != nil {
		s.log.Error("client assertion store", "err", err)
		return nil, errServer("the client assertion could not be checked")
	}
	if !fresh {
		return nil, errInvalidClient("client_assertion jti has been used before")
	}
	return client, nil
}

func algAllowed(a jwa.SignatureAlgorithm) bool {
	for _, ok := range assertionAlgs {
		if a == ok {
			return true
		}
	}
	return false
}

// keyFitsAlg checks the key type (and its alg, when the JWK names one)
// against the assertion's alg, so a key cannot be used with an algorithm
// its owner did not mean.
func keyFitsAlg(k jwk.Key, alg jwa.SignatureAlgorithm) bool {
	if a := k.Algorithm(); a != nil && a.String() != "" && a.String() != alg.String() {
		return false
	}
	switch alg {
	case jwa.RS384:
		_, ok := k.(jwk.RSAPublicKey)
		return ok
	case jwa.ES384:
		ec, ok := k.(jwk.ECDSAPublicKey)
		return ok && ec.Crv() == jwa.P384
	}
	return false
}

func unixTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}
