package wsock

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// maxCommand bounds a client message: commands are a word and a token or
// id, far below this.
const maxCommand = 4096

// fhirID is R4's id datatype.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// refusal is a bad command: its text goes to the client, then the socket
// is closed with code.
type refusal struct {
	code websocket.StatusCode
	msg  string
}

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) *refusal {
	return &refusal{code: websocket.StatusPolicyViolation, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP is the websocket endpoint (the core mounts it at /ws, behind
// whatever authentication it wants for the upgrade request). It accepts
// the upgrade, then reads text commands until the client leaves or sends
// something it cannot act on. See the package comment for the commands.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		http.Error(w, "the websocket notification channel is shut down", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: len(h.opts.originPatterns) == 0, // see WithOriginPatterns
		OriginPatterns:     h.opts.originPatterns,
	})
	if err != nil {
		return // Accept has answered with the HTTP error
	}
	ws.SetReadLimit(maxCommand)
	c := &conn{ws: ws, req: r}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.drop(c)
		ws.CloseNow()
	}()

	ctx := r.Context()
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return // closed by the client, by Close, or over the read limit
		}
		var bad *refusal
		if typ != websocket.MessageText {
			bad = &refusal{code: websocket.StatusUnsupportedData, msg: "binary messages are not accepted; send a text command"}
		} else {
			bad = h.command(ctx, c, strings.TrimSpace(string(data)))
		}
		if bad != nil {
			h.refuse(ctx, c, bad)
			return
		}
	}
}

// command acts on one client command.
func (h *Hub) command(ctx context.Context, c *conn, cmd string) *refusal {
	switch verb, arg := splitCommand(cmd); verb {
	case "bind-with-token":
		return h.bindWithToken(ctx, c, arg)
	case "bind":
		return h.bindR4(ctx, c, arg)
	default:
		return refuse("unknown command %q: send \"bind-with-token: TOKEN\" (topic-based) or \"bind SUBSCRIPTION-ID\" (R4)", clip(cmd, 40))
	}
}

// splitCommand splits "bind-with-token: X", "bind-with-token X" and
// "bind X" into verb and argument.
func splitCommand(cmd string) (verb, arg string) {
	if rest, ok := strings.CutPrefix(cmd, "bind-with-token"); ok && (rest == "" || rest[0] == ':' || rest[0] == ' ') {
		return "bind-with-token", strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	}
	if rest, ok := strings.CutPrefix(cmd, "bind"); ok && (rest == "" || rest[0] == ' ') {
		return "bind", strings.TrimSpace(rest)
	}
	return "", ""
}

// bindWithToken is the backport flow: redeem the token, render the
// handshakes, then bind and send them under the socket's write lock so no
// notification overtakes them.
func (h *Hub) bindWithToken(ctx context.Context, c *conn, tok string) *refusal {
	if tok == "" {
		return refuse("bind-with-token needs a token: \"bind-with-token: TOKEN\"")
	}
	subs, expires, err := h.redeem(ctx, tok)
	if err != nil {
		return refuse("%v", err)
	}
	var msgs [][]byte
	if h.opts.handshake != nil {
		for _, id := range subs {
			m, err := h.opts.handshake(ctx, id)
			if err != nil {
				return refuse("cannot bind subscription %s: %v", id, err)
			}
			msgs = append(msgs, m...)
		}
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for _, id := range subs {
		h.bind(c, id, expires)
	}
	for _, m := range msgs {
		if err := h.write(ctx, c, m); err != nil {
			return refuse("cannot write the handshake: %v", err)
		}
	}
	return nil
}

// bindR4 is the R4 flow: "bind ID" answered with "bound ID".
func (h *Hub) bindR4(ctx context.Context, c *conn, id string) *refusal {
	if !fhirID.MatchString(id) {
		return refuse("bind needs a subscription id (1-64 letters, digits, '-' or '.'), got %q", clip(id, 70))
	}
	if h.opts.authorize != nil {
		if err := h.opts.authorize(c.req, id); err != nil {
			return refuse("cannot bind subscription %s: %v", id, err)
		}
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	h.bind(c, id, time.Time{})
	if err := h.write(ctx, c, []byte("bound "+id)); err != nil {
		return refuse("cannot answer the bind: %v", err)
	}
	return nil
}

// refuse tells the client what was wrong and closes the socket.
func (h *Hub) refuse(ctx context.Context, c *conn, bad *refusal) {
	h.drop(c)
	c.writeMu.Lock()
	h.write(ctx, c, []byte("error: "+bad.msg))
	c.writeMu.Unlock()
	c.ws.Close(bad.code, clip(bad.msg, 120)) // a close reason is at most 123 bytes
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
