package wsock

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"
)

// token is a binding token minted by IssueToken. A used token is kept
// until it expires so a second use can be told apart from a made-up token.
type token struct {
	subscriptions []string
	expires       time.Time
	used          bool
}

var (
	errUnknownToken = errors.New("unknown binding token; get one from $get-ws-binding-token")
	errUsedToken    = errors.New("binding token already used; get a new one from $get-ws-binding-token")
	errExpiredToken = errors.New("binding token expired; get a new one from $get-ws-binding-token")
)

// IssueToken mints a single-use binding token for these subscriptions,
// valid for ttl. The token is 256 random bits; the caller decides who may
// have one ($get-ws-binding-token checks the client may read each
// subscription).
func (h *Hub) IssueToken(subscriptionIDs []string, ttl time.Duration) (string, time.Time) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("wsock: crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.sweepTokens(now)
	expires := now.Add(ttl)
	h.tokens[tok] = &token{subscriptions: append([]string(nil), subscriptionIDs...), expires: expires}
	return tok, expires
}

// redeem uses a token once: it returns its subscriptions and expiry.
func (h *Hub) redeem(tok string) ([]string, time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.tokens[tok]
	switch {
	case !ok:
		return nil, time.Time{}, errUnknownToken
	case !h.now().Before(t.expires):
		delete(h.tokens, tok)
		return nil, time.Time{}, errExpiredToken
	case t.used:
		return nil, time.Time{}, errUsedToken
	}
	t.used = true
	return t.subscriptions, t.expires, nil
}

// sweepTokens forgets expired tokens so the map stays bounded by the number
// issued within one ttl; the caller holds h.mu.
func (h *Hub) sweepTokens(now time.Time) {
	for k, t := range h.tokens {
		if !now.Before(t.expires) {
			delete(h.tokens, k)
		}
	}
}
