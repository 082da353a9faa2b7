package wsock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// mapTokens is a Tokens kept outside the hub, as a shared store would
// keep them.
type mapTokens struct {
	mu      sync.Mutex
	subs    map[string][]string
	used    map[string]bool
	expires time.Time
	fail    error // returned by every Redeem when set
}

func (m *mapTokens) Redeem(_ context.Context, tok string) ([]string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch subs, ok := m.subs[tok]; {
	case m.fail != nil:
		return nil, time.Time{}, m.fail
	case !ok:
		return nil, time.Time{}, ErrUnknownToken
	case m.used[tok]:
		return nil, time.Time{}, ErrUsedToken
	default:
		m.used[tok] = true
		return subs, m.expires, nil
	}
}

// With WithTokens the hub redeems through them: a token the hub never
// issued binds, once, until the expiry they give; their refusals and
// failures reach the client.
func TestWithTokens(t *testing.T) {
	clk := newClock()
	tok := NewToken()
	ext := &mapTokens{subs: map[string][]string{tok: {"sub-a"}}, used: map[string]bool{}, expires: clk.now().Add(time.Minute)}
	h := NewHub(clk.now, WithHandshake(handshakeEcho), WithTokens(ext))
	url := serve(t, h)

	c := dial(t, url, nil)
	say(t, c, "bind-with-token: "+tok)
	if got := next(t, c); got != "handshake sub-a" {
		t.Fatalf("got %q, want the handshake", got)
	}
	if h.Bound("sub-a") != 1 {
		t.Fatalf("Bound = %d, want 1", h.Bound("sub-a"))
	}
	clk.advance(time.Minute)
	if h.Bound("sub-a") != 0 {
		t.Fatal("the binding outlived the expiry the tokens gave")
	}

	tests := []struct {
		name, token, want string
		fail              error
	}{
		{"used", tok, "already used", nil},
		{"unknown", NewToken(), "unknown binding token", nil},
		{"hub's own token is not theirs", func() string { s, _ := h.IssueToken([]string{"sub-b"}, time.Minute); return s }(), "unknown binding token", nil},
		{"store down", tok, "could not check", errors.New("the server could not check the binding token; try again")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ext.mu.Lock()
			ext.fail = tt.fail
			ext.mu.Unlock()
			c := dial(t, url, nil)
			say(t, c, "bind-with-token: "+tt.token)
			expectRefusal(t, c, tt.want, websocket.StatusPolicyViolation)
		})
	}
}
