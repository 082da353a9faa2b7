package subscription

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/subscription/wsock"
)

// Websocket binding tokens ($get-ws-binding-token) live in the hub's
// memory with one process; with Config.Tokens, in the store, so that a
// token minted by any process binds a socket at any, once. The store
// keeps a hash of each token, never the token.

// issueToken mints a binding token for the subscriptions.
func (m *Manager) issueToken(ctx context.Context, ids []string) (string, time.Time, error) {
	if m.cfg.Tokens == nil {
		tok, expires := m.hub.IssueToken(ids, m.timing.TokenTTL)
		return tok, expires, nil
	}
	tok, expires := wsock.NewToken(), m.now().Add(m.timing.TokenTTL)
	err := m.cfg.Tokens.SaveBindingToken(ctx, store.BindingToken{Key: tokenKey(tok), Subscriptions: ids, Expires: expires})
	return tok, expires, err
}

func tokenKey(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// sharedTokens redeems the tokens kept in the store (wsock.Tokens).
type sharedTokens struct{ m *Manager }

func (s sharedTokens) Redeem(ctx context.Context, tok string) ([]string, time.Time, error) {
	t, err := s.m.cfg.Tokens.RedeemBindingToken(ctx, tokenKey(tok), s.m.now())
	switch {
	case err == nil:
		return t.Subscriptions, t.Expires, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, time.Time{}, wsock.ErrUnknownToken
	case errors.Is(err, store.ErrTokenUsed):
		return nil, time.Time{}, wsock.ErrUsedToken
	case errors.Is(err, store.ErrTokenExpired):
		return nil, time.Time{}, wsock.ErrExpiredToken
	}
	s.m.log.Error("websocket binding token not checked", "err", err)
	return nil, time.Time{}, errors.New("the server could not check the binding token; try again")
}
