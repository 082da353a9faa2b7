package wsock

import (
	"context"
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

// The refusals of a token, as the client reads them. A Tokens
// implementation returns them too.
var (
	ErrUnknownToken = errors.New("unknown binding token; get one from $get-ws-binding-token")
	ErrUsedToken    = errors.New("binding token already used; get a new one from $get-ws-binding-token")
	ErrExpiredToken = errors.New("binding token expired; get a new one from $get-ws-binding-token")
)

// Tokens keeps binding tokens outside the hub (say, in a database that
// several server processes share, so that a token minted by one binds at
// any). Redeem uses a token once and returns its subscriptions and
// expiry; it refuses with ErrUnknownToken, ErrUsedToken or
// ErrExpiredToken, or another error whose text the client may read.
type Tokens interface {
	Redeem(ctx context.Context, token string) ([]string, time.Time, error)
}

// WithTokens makes the hub redeem tokens with t instead of its own
// (IssueToken's); the caller then mints them with NewToken.
func WithTokens(t Tokens) Option {
	return func(o *options) { o.tokens = t }
}

// NewToken returns a new random binding token: 256 bits, URL-safe.
func NewToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("wsock: crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// IssueToken mints a single-use binding token for these subscriptions,
// valid for ttl. The token is 256 random bits; the caller decides who may
// have one ($get-ws-binding-token checks the client may read each
// subscription).
func (h *Hub) IssueToken(subscriptionIDs []string, ttl time.Duration) (string, time.Time) {
	tok := NewToken()
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.sweepTokens(now)
	expires := now.Add(ttl)
	h.tokens[tok] = &token{subscriptions: append([]string(nil), subscriptionIDs...), expires: expires}
	return tok, expires
}

// redeem uses a token once: it returns its subscriptions and expiry.
func (h *Hub) redeem(ctx context.Context, tok string) ([]string, time.Time, error) {
	if h.opts.tokens != nil {
		return h.opts.tokens.Redeem(ctx, tok)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.tokens[tok]
	switch {
	case !ok:
		return nil, time.Time{}, ErrUnknownToken
	case !h.now().Before(t.expires):
		delete(h.tokens, tok)
		return nil, time.Time{}, ErrExpiredToken
	case t.used:
		return nil, time.Time{}, ErrUsedToken
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
