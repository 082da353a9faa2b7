package wsock

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// clock is a settable time source shared by the hub and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// serve runs the hub behind a real HTTP server and returns its ws:// URL.
func serve(t *testing.T, h *Hub) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
}

func dial(t *testing.T, url string, header http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("dial: status %d", resp.StatusCode)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func say(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
}

// next reads one message, failing the test after 5s.
func next(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("got a %v message, want text", typ)
	}
	return string(b)
}

// expectRefusal reads the error message and then the close, checking both.
func expectRefusal(t *testing.T, c *websocket.Conn, wantText string, wantCode websocket.StatusCode) {
	t.Helper()
	msg := next(t, c)
	if !strings.HasPrefix(msg, "error: ") || !strings.Contains(msg, wantText) {
		t.Fatalf("got %q, want an error message containing %q", msg, wantText)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if got := websocket.CloseStatus(err); got != wantCode {
		t.Fatalf("after the error: %v (close status %d), want the socket closed with %d", err, got, wantCode)
	}
}

// eventually polls cond for up to 5s: the server notices a client leaving
// asynchronously.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func send(h *Hub, id, msg string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return h.Send(ctx, id, []byte(msg))
}

func handshakeEcho(_ context.Context, id string) ([][]byte, error) {
	return [][]byte{[]byte("handshake " + id)}, nil
}

func TestBackportBindWithToken(t *testing.T) {
	clk := newClock()
	h := NewHub(clk.now, WithHandshake(handshakeEcho))
	url := serve(t, h)
	tok, expires := h.IssueToken([]string{"sub-a", "sub-b"}, time.Minute)
	if want := clk.now().Add(time.Minute); !expires.Equal(want) {
		t.Fatalf("expires %v, want %v", expires, want)
	}
	c := dial(t, url, nil)
	say(t, c, "bind-with-token: "+tok)
	// One handshake per subscription in the token, in order.
	for _, want := range []string{"handshake sub-a", "handshake sub-b"} {
		if got := next(t, c); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if h.Bound("sub-a") != 1 || h.Bound("sub-b") != 1 || h.Bound("sub-c") != 0 {
		t.Fatalf("Bound a=%d b=%d c=%d, want 1 1 0", h.Bound("sub-a"), h.Bound("sub-b"), h.Bound("sub-c"))
	}
	if n := send(h, "sub-b", `{"resourceType":"Bundle"}`); n != 1 {
		t.Fatalf("Send reached %d sockets, want 1", n)
	}
	if got := next(t, c); got != `{"resourceType":"Bundle"}` {
		t.Fatalf("got %q", got)
	}
	if n := send(h, "sub-c", "not for this socket"); n != 0 {
		t.Fatalf("Send to an unbound subscription reached %d sockets", n)
	}

	// The binding lasts as long as the token; a fresh token extends it on
	// the same socket.
	clk.advance(59 * time.Second)
	tok2, _ := h.IssueToken([]string{"sub-a"}, time.Minute)
	say(t, c, "bind-with-token "+tok2) // the colon is optional
	if got := next(t, c); got != "handshake sub-a" {
		t.Fatalf("got %q", got)
	}
	clk.advance(2 * time.Second)
	if h.Bound("sub-b") != 0 || h.Bound("sub-a") != 1 {
		t.Fatalf("after the first token expired: Bound a=%d b=%d, want 1 0", h.Bound("sub-a"), h.Bound("sub-b"))
	}
	if n := send(h, "sub-b", "late"); n != 0 {
		t.Fatalf("Send on an expired binding reached %d sockets", n)
	}
	if n := send(h, "sub-a", "still bound"); n != 1 {
		t.Fatalf("Send on the renewed binding reached %d sockets", n)
	}
	if got := next(t, c); got != "still bound" {
		t.Fatalf("got %q (an expired binding's message leaked?)", got)
	}
}

// The handshake goes out before any notification for the new binding, even
// when notifications are being sent while the client binds.
func TestHandshakeComesFirst(t *testing.T) {
	h := NewHub(nil, WithHandshake(handshakeEcho))
	url := serve(t, h)
	tok, _ := h.IssueToken([]string{"busy"}, time.Minute)
	c := dial(t, url, nil)
	stop := make(chan struct{})
	var sent atomic.Int64
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				sent.Add(int64(send(h, "busy", "event")))
			}
		}
	}()
	say(t, c, "bind-with-token: "+tok)
	first := next(t, c)
	eventually(t, "an event after the bind", func() bool { return sent.Load() > 0 })
	close(stop)
	if first != "handshake busy" {
		t.Fatalf("first message %q, want the handshake", first)
	}
	if got := next(t, c); got != "event" {
		t.Fatalf("second message %q, want an event", got)
	}
}

func TestBindWithTokenRefusals(t *testing.T) {
	clk := newClock()
	failing := func(_ context.Context, id string) ([][]byte, error) {
		if id == "gone" {
			return nil, errors.New("subscription deleted")
		}
		return handshakeEcho(nil, id)
	}
	h := NewHub(clk.now, WithHandshake(failing))
	url := serve(t, h)

	t.Run("expired", func(t *testing.T) {
		tok, _ := h.IssueToken([]string{"s"}, time.Minute)
		clk.advance(time.Minute)
		c := dial(t, url, nil)
		say(t, c, "bind-with-token: "+tok)
		expectRefusal(t, c, "token expired", websocket.StatusPolicyViolation)
	})
	t.Run("reused", func(t *testing.T) {
		tok, _ := h.IssueToken([]string{"s"}, time.Minute)
		first := dial(t, url, nil)
		say(t, first, "bind-with-token: "+tok)
		if got := next(t, first); got != "handshake s" {
			t.Fatalf("first use: %q", got)
		}
		second := dial(t, url, nil)
		say(t, second, "bind-with-token: "+tok)
		expectRefusal(t, second, "already used", websocket.StatusPolicyViolation)
		if h.Bound("s") != 1 {
			t.Fatalf("Bound = %d, want only the first socket", h.Bound("s"))
		}
	})
	t.Run("unknown", func(t *testing.T) {
		c := dial(t, url, nil)
		say(t, c, "bind-with-token: made-up")
		expectRefusal(t, c, "unknown binding token", websocket.StatusPolicyViolation)
	})
	t.Run("missing", func(t *testing.T) {
		c := dial(t, url, nil)
		say(t, c, "bind-with-token:")
		expectRefusal(t, c, "needs a token", websocket.StatusPolicyViolation)
	})
	t.Run("handshake fails", func(t *testing.T) {
		tok, _ := h.IssueToken([]string{"ok", "gone"}, time.Minute)
		c := dial(t, url, nil)
		say(t, c, "bind-with-token: "+tok)
		expectRefusal(t, c, "cannot bind subscription gone: subscription deleted", websocket.StatusPolicyViolation)
		eventually(t, "no bindings left", func() bool { return h.Bound("ok") == 0 && h.Bound("gone") == 0 })
	})
}

func TestR4Bind(t *testing.T) {
	authorize := func(r *http.Request, id string) error {
		if r.Header.Get("X-Test-User") != "dr-jones" {
			return errors.New("not signed in")
		}
		if id == "someone-elses" {
			return errors.New("forbidden")
		}
		return nil
	}
	h := NewHub(nil, WithAuthorize(authorize))
	url := serve(t, h)
	user := http.Header{"X-Test-User": {"dr-jones"}}

	c := dial(t, url, user)
	say(t, c, "bind sub-1")
	if got := next(t, c); got != "bound sub-1" {
		t.Fatalf("got %q, want %q", got, "bound sub-1")
	}
	say(t, c, "bind sub-2") // several subscriptions on one socket
	if got := next(t, c); got != "bound sub-2" {
		t.Fatalf("got %q", got)
	}
	if n := send(h, "sub-1", "ping sub-1"); n != 1 {
		t.Fatalf("Send reached %d sockets, want 1", n)
	}
	if got := next(t, c); got != "ping sub-1" {
		t.Fatalf("got %q", got)
	}

	tests := []struct {
		name, cmd string
		header    http.Header
		want      string
	}{
		{"refused by Authorize", "bind someone-elses", user, "cannot bind subscription someone-elses: forbidden"},
		{"no identity on the request", "bind sub-1", nil, "not signed in"},
		{"no id", "bind", user, "needs a subscription id"},
		{"bad id", "bind ../Patient/1", user, "needs a subscription id"},
		{"two ids", "bind a b", user, "needs a subscription id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, url, tt.header)
			say(t, c, tt.cmd)
			expectRefusal(t, c, tt.want, websocket.StatusPolicyViolation)
		})
	}
}

func TestBadInput(t *testing.T) {
	h := NewHub(nil)
	url := serve(t, h)
	for _, cmd := range []string{"hello", "bindsub-1", "BIND sub-1", "unbind sub-1", ""} {
		t.Run(fmt.Sprintf("%q", cmd), func(t *testing.T) {
			c := dial(t, url, nil)
			say(t, c, cmd)
			expectRefusal(t, c, "unknown command", websocket.StatusPolicyViolation)
		})
	}
	t.Run("binary", func(t *testing.T) {
		c := dial(t, url, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Write(ctx, websocket.MessageBinary, []byte("bind sub-1")); err != nil {
			t.Fatal(err)
		}
		expectRefusal(t, c, "binary messages", websocket.StatusUnsupportedData)
	})
	t.Run("oversized", func(t *testing.T) {
		c := dial(t, url, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Write(ctx, websocket.MessageText, []byte("bind "+strings.Repeat("x", 2*maxCommand)))
		_, _, err := c.Read(ctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
			t.Fatalf("read after an oversized command: %v, want close %d", err, websocket.StatusMessageTooBig)
		}
	})
	t.Run("not a websocket request", func(t *testing.T) {
		resp, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Fatalf("plain GET: status %d, want 4xx", resp.StatusCode)
		}
	})
}

// Several sockets on one subscription each get every message; one that
// leaves stops being counted.
func TestSeveralSockets(t *testing.T) {
	h := NewHub(nil)
	url := serve(t, h)
	var clients []*websocket.Conn
	for i := 0; i < 3; i++ {
		c := dial(t, url, nil)
		say(t, c, "bind shared")
		if got := next(t, c); got != "bound shared" {
			t.Fatalf("client %d: %q", i, got)
		}
		clients = append(clients, c)
	}
	if h.Bound("shared") != 3 {
		t.Fatalf("Bound = %d, want 3", h.Bound("shared"))
	}
	if n := send(h, "shared", "ping shared"); n != 3 {
		t.Fatalf("Send reached %d, want 3", n)
	}
	for i, c := range clients {
		if got := next(t, c); got != "ping shared" {
			t.Fatalf("client %d: %q", i, got)
		}
	}
	clients[1].Close(websocket.StatusNormalClosure, "bye")
	eventually(t, "the server to notice the closed socket", func() bool { return h.Bound("shared") == 2 })
	if n := send(h, "shared", "ping shared"); n != 2 {
		t.Fatalf("Send after one left reached %d, want 2", n)
	}
	for _, i := range []int{0, 2} {
		if got := next(t, clients[i]); got != "ping shared" {
			t.Fatalf("client %d: %q", i, got)
		}
	}
}

// A client that stops reading cannot stall deliveries: once its buffers
// are full a write times out, Send stops counting it and the hub drops it,
// while the read side of that socket is still open.
func TestSendDropsStalledSocket(t *testing.T) {
	h := NewHub(nil, WithWriteTimeout(200*time.Millisecond))
	url := serve(t, h)
	c := dial(t, url, nil)
	say(t, c, "bind s")
	if got := next(t, c); got != "bound s" {
		t.Fatal(got)
	}
	big := strings.Repeat("x", 1<<20)
	var counts []int
	for i := 0; i < 64; i++ { // the client reads nothing from here on
		n := send(h, "s", big)
		counts = append(counts, n)
		if n == 0 {
			break
		}
	}
	if counts[len(counts)-1] != 0 {
		t.Fatalf("64 MiB went to a client that reads nothing; Send counts %v", counts)
	}
	if h.Bound("s") != 0 {
		t.Fatalf("Bound = %d after a failed write, want 0", h.Bound("s"))
	}
}

func TestClose(t *testing.T) {
	h := NewHub(nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	a, b := dial(t, url, nil), dial(t, url, nil)
	say(t, a, "bind s")
	next(t, a)
	tok, _ := h.IssueToken([]string{"s"}, time.Minute)
	say(t, b, "bind-with-token: "+tok) // no handshake option: nothing comes back
	eventually(t, "both bound", func() bool { return h.Bound("s") == 2 })

	done := make(chan struct{})
	go func() { h.Close(); close(done) }()
	for i, c := range []*websocket.Conn{a, b} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, err := c.Read(ctx)
		cancel()
		if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
			t.Fatalf("client %d: %v, want close %d", i, err, websocket.StatusGoingAway)
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if h.Bound("s") != 0 || send(h, "s", "x") != 0 {
		t.Fatal("bindings survive Close")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after Close: %v (resp %v), want 503", err, resp)
	}
}

func TestTokensAreUniqueAndSwept(t *testing.T) {
	clk := newClock()
	h := NewHub(clk.now)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		tok, _ := h.IssueToken([]string{"s"}, time.Minute)
		if seen[tok] || len(tok) < 40 {
			t.Fatalf("token %q repeated or short", tok)
		}
		seen[tok] = true
	}
	clk.advance(2 * time.Minute)
	h.IssueToken([]string{"s"}, time.Minute)
	h.mu.Lock()
	n := len(h.tokens)
	h.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d tokens kept after the others expired, want 1", n)
	}
}
