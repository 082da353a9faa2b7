package auth

import (
	"errors"
	"time"
)

// authCode is an authorization code waiting to be exchanged.
type authCode struct {
	ClientID    string       `json:"client_id"`
	RedirectURI string       `json:"redirect_uri"`
	Challenge   string       `json:"challenge"` // PKCE S256 code_challenge
	TC          tokenContext `json:"context"`
	AuthTime    time.Time    `json:"auth_time"`
	Expires     time.Time    `json:"expires"`
}

// codeIssued is what an exchanged code issued, kept so that a second
// exchange revokes it (RFC 6749 4.1.2).
type codeIssued struct {
	Issued map[string]time.Time `json:"issued"` // access token jti -> expiry
	Family string               `json:"family"` // refresh token family, if any
}

// codeStore keeps codes in the state, by hash. A code's single use is the
// insert of its used marker; what it issued is a record of its own,
// written by the one exchange that won. A second exchange leaves a
// revoked marker and revokes what the first issued; the first, finding
// that marker after recording what it issued, revokes it too, so the two
// cannot pass each other.
type codeStore struct {
	st State
	// remember is how long past its expiry a code is remembered, used or
	// not: as long as the tokens an exchange issued live, so that a
	// second exchange can still revoke them.
	remember time.Duration
}

// errCodeRevoked: the code was presented again while it was exchanged.
var errCodeRevoked = errors.New("the authorization code was presented twice")

// forgets is when a code's records go.
func (s *codeStore) forgets(c *authCode) time.Time { return c.Expires.Add(s.remember) }

// codeState is what redeeming a code found.
type codeState int

const (
	codeValid codeState = iota
	codeUnknown
	codeExpired
	codeReused
)

// put stores a fresh code.
func (s *codeStore) put(code string, c *authCode) error {
	return insertJSON(s.st, kindCode, hashToken(code), c, s.forgets(c))
}

// redeem marks a code used and returns it (a reused one too, for the
// caller to revoke what it issued).
func (s *codeStore) redeem(code string, now time.Time) (*authCode, codeState, error) {
	h := hashToken(code)
	var c authCode
	found, forgotten, err := getJSON(s.st, kindCode, h, &c, now)
	if err != nil || !found || forgotten {
		return nil, codeUnknown, err
	}
	if !now.Before(c.Expires) {
		used, err := exists(s.st, kindCodeUsed, h, now)
		if err != nil || !used {
			return nil, codeExpired, err
		}
		return &c, codeReused, nil
	}
	won, err := claim(s.st, kindCodeUsed, h, s.forgets(&c))
	switch {
	case err != nil:
		return nil, codeUnknown, err
	case !won:
		return &c, codeReused, nil
	}
	return &c, codeValid, nil
}

// recordIssued records what an exchange issued. errCodeRevoked: the code
// was presented again meanwhile, and the caller must revoke what it
// issued.
func (s *codeStore) recordIssued(code string, c *authCode, issued codeIssued, now time.Time) error {
	h := hashToken(code)
	if err := insertJSON(s.st, kindCodeIssued, h, issued, s.forgets(c)); err != nil {
		return err
	}
	revoked, err := exists(s.st, kindCodeRevoked, h, now)
	if err == nil && revoked {
		err = errCodeRevoked
	}
	return err
}

// reused marks a code presented again and returns what its exchange
// issued (nothing yet, if that exchange is still under way: it will find
// the mark).
func (s *codeStore) reused(code string, c *authCode, now time.Time) (codeIssued, error) {
	h := hashToken(code)
	if _, err := claim(s.st, kindCodeRevoked, h, s.forgets(c)); err != nil {
		return codeIssued{}, err
	}
	var issued codeIssued
	_, _, err := getJSON(s.st, kindCodeIssued, h, &issued, now)
	return issued, err
}
