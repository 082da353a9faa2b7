package auth

import (
	"sync"
	"time"
)

// authCode is an authorization code waiting to be exchanged.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string // PKCE S256 code_challenge
	tc          tokenContext
	authTime    time.Time
	expires     time.Time

	// Once exchanged, the code is kept (used) with what it issued, so that
	// a second exchange revokes those tokens (RFC 6749 4.1.2).
	used    bool
	issued  map[string]time.Time // access token jti -> expiry
	family  string               // refresh token family, if any
	forgets time.Time            // when the used code is dropped
}

type codeStore struct {
	mu sync.Mutex
	m  map[string]*authCode
}

func newCodeStore() *codeStore { return &codeStore{m: map[string]*authCode{}} }

func (s *codeStore) put(code string, c *authCode, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, old := range s.m {
		if now.After(old.forgets) {
			delete(s.m, k)
		}
	}
	s.m[code] = c
}

// codeState is what redeeming a code found.
type codeState int

const (
	codeValid codeState = iota
	codeUnknown
	codeExpired
	codeReused
)

// redeem marks a code used and returns it. A reused code comes back with
// codeReused and what it issued, for the caller to revoke.
func (s *codeStore) redeem(code string, now time.Time) (*authCode, codeState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.m[code]
	switch {
	case !ok:
		return nil, codeUnknown
	case c.used:
		return c, codeReused
	case !now.Before(c.expires):
		delete(s.m, code)
		return nil, codeExpired
	}
	c.used = true
	c.issued = map[string]time.Time{}
	return c, codeValid
}

// issued records the tokens an exchanged code produced.
func (s *codeStore) record(c *authCode, jti string, exp time.Time, family string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.issued[jti] = exp
	c.family = family
}

// takeIssued returns (and forgets) what a reused code had issued.
func (s *codeStore) takeIssued(c *authCode) (map[string]time.Time, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	issued, family := c.issued, c.family
	c.issued, c.family = map[string]time.Time{}, ""
	return issued, family
}
