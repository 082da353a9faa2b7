// Package wsock is the websocket notification channel. Clients connect to
// one endpoint and bind the socket to subscriptions with a text command:
//
//   - topic-based (Subscriptions R5 Backport IG): "bind-with-token: TOKEN",
//     the token minted by IssueToken for $get-ws-binding-token. The hub
//     answers with the messages the Handshake option renders (the IG's
//     handshake notification, one per subscription in the token). The
//     binding lasts until the token expires: the IG has clients fetch a new
//     token and bind again before then.
//   - R4 criteria-based (R4 Subscription, channel type websocket):
//     "bind ID". The hub answers "bound ID"; the core then Sends
//     "ping ID" for each event. The optional Authorize hook vets the bind.
//
// Bad input gets a text message starting "error: " naming the problem, then
// the socket is closed (status 1008, policy violation; 1003 for binary).
// The hub keeps no queue: Send writes now or not at all, and reports how
// many sockets took the message.
package wsock

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Hub tracks live sockets, the subscriptions they are bound to, and the
// binding tokens not yet used. It is safe for concurrent use.
type Hub struct {
	now  func() time.Time
	opts options

	mu       sync.Mutex
	closed   bool
	conns    map[*conn]struct{}
	bindings map[string]map[*conn]time.Time // subscription id -> socket -> bound until (zero: no end)
	tokens   map[string]*token
}

// conn is one accepted socket. writeMu orders the messages written to it:
// a bind's answer goes out before anything Send delivers for the new
// binding.
type conn struct {
	ws      *websocket.Conn
	req     *http.Request
	writeMu sync.Mutex
}

// Option configures a Hub.
type Option func(*options)

type options struct {
	authorize      func(r *http.Request, subscriptionID string) error
	handshake      func(ctx context.Context, subscriptionID string) ([][]byte, error)
	originPatterns []string
	writeTimeout   time.Duration
	tokens         Tokens
}

// WithAuthorize sets the check for the R4 "bind ID" flow: it gets the
// upgrade request (headers, the authenticated identity the core put in its
// context) and the subscription id, and returns an error to refuse (the
// error text is sent to the client, so keep it free of secrets). It should
// also refuse ids of unknown subscriptions and of subscriptions whose
// channel is not websocket. Without it every "bind ID" is accepted. The
// backport flow does not use it: there the token, issued by the
// authorized $get-ws-binding-token operation, is the authorization.
func WithAuthorize(f func(r *http.Request, subscriptionID string) error) Option {
	return func(o *options) { o.authorize = f }
}

// WithHandshake sets what the hub sends after a successful
// "bind-with-token": f is called for each subscription in the token, in
// order, and its messages are written before any Send for that binding
// (per the IG: a handshake notification Bundle, optionally followed by
// missed event notifications). An error refuses the bind (its text goes to
// the client). Without it the hub sends nothing after binding.
func WithHandshake(f func(ctx context.Context, subscriptionID string) ([][]byte, error)) Option {
	return func(o *options) { o.handshake = f }
}

// WithOriginPatterns restricts which browser origins may open a socket
// (patterns as in websocket.AcceptOptions.OriginPatterns). By default any
// origin may: binding needs a token or the Authorize hook, never a cookie,
// so a foreign page gains nothing a script with the token would not have.
func WithOriginPatterns(patterns ...string) Option {
	return func(o *options) { o.originPatterns = patterns }
}

// WithWriteTimeout bounds each write to a socket (default 10s); a socket
// that cannot take a message in time is closed.
func WithWriteTimeout(d time.Duration) Option {
	return func(o *options) { o.writeTimeout = d }
}

// NewHub returns an empty hub; now is its clock (nil: time.Now).
func NewHub(now func() time.Time, opts ...Option) *Hub {
	if now == nil {
		now = time.Now
	}
	h := &Hub{
		now:      now,
		opts:     options{writeTimeout: 10 * time.Second},
		conns:    map[*conn]struct{}{},
		bindings: map[string]map[*conn]time.Time{},
		tokens:   map[string]*token{},
	}
	for _, o := range opts {
		o(&h.opts)
	}
	return h
}

// Bound reports how many live sockets are bound to a subscription (the core
// uses it to decide whether a websocket subscription is deliverable).
func (h *Hub) Bound(subscriptionID string) int {
	return len(h.bound(subscriptionID))
}

// bound lists the sockets bound to a subscription now, dropping bindings
// whose token has expired.
func (h *Hub) bound(subscriptionID string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	var out []*conn
	for c, until := range h.bindings[subscriptionID] {
		if !until.IsZero() && !now.Before(until) {
			delete(h.bindings[subscriptionID], c)
			continue
		}
		out = append(out, c)
	}
	if len(h.bindings[subscriptionID]) == 0 {
		delete(h.bindings, subscriptionID)
	}
	return out
}

// Send writes msg (text) to every socket bound to the subscription; returns
// how many got it. Sockets are written in parallel; one that fails or
// times out is closed and no longer counted.
func (h *Hub) Send(ctx context.Context, subscriptionID string, msg []byte) int {
	targets := h.bound(subscriptionID)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		n  int
	)
	for _, c := range targets {
		wg.Add(1)
		go func(c *conn) {
			defer wg.Done()
			c.writeMu.Lock()
			err := h.write(ctx, c, msg)
			c.writeMu.Unlock()
			if err != nil {
				h.drop(c)
				c.ws.CloseNow()
				return
			}
			mu.Lock()
			n++
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	return n
}

// write sends one text message within the write timeout; the caller holds
// c.writeMu.
func (h *Hub) write(ctx context.Context, c *conn, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, msg)
}

// bind records that c receives a subscription's messages until until
// (zero: until the socket closes).
func (h *Hub) bind(c *conn, subscriptionID string, until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return // Close raced with this bind; the socket is being closed
	}
	m := h.bindings[subscriptionID]
	if m == nil {
		m = map[*conn]time.Time{}
		h.bindings[subscriptionID] = m
	}
	if old, ok := m[c]; ok && (old.IsZero() || (!until.IsZero() && old.After(until))) {
		return // keep the longer binding
	}
	m[c] = until
}

// drop forgets a socket and its bindings.
func (h *Hub) drop(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	for id, m := range h.bindings {
		delete(m, c)
		if len(m) == 0 {
			delete(h.bindings, id)
		}
	}
}

// Close closes every socket (status 1001, going away) and refuses new
// ones; it returns once every socket is closed.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.conns = map[*conn]struct{}{}
	h.bindings = map[string]map[*conn]time.Time{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func(c *conn) {
			defer wg.Done()
			c.ws.Close(websocket.StatusGoingAway, "server shutting down")
		}(c)
	}
	wg.Wait()
}
