package loadgen

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// capturePerKind is how many real responses of each request kind the
// ceiling replays, round robin: enough to carry the spread of sizes (a
// search with 0 or 20 matches) without holding much memory.
const capturePerKind = 32

// captured is one real response, kept to be replayed.
type captured struct {
	status int
	header http.Header // without Content-Length, which is set from body
	body   []byte
	length []string // Content-Length, formatted once
}

// captures holds the sample of one scenario's responses, per kind.
type captures struct {
	mu    sync.Mutex
	kinds [][]captured
	keys  []string // shape key of each kind, from the first request seen
	full  atomic.Int32
}

func newCaptures(kinds int) *captures {
	return &captures{kinds: make([][]captured, kinds), keys: make([]string, kinds)}
}

// add keeps a copy of resp if its kind still has room; it costs one atomic
// load once every kind is full.
func (c *captures) add(req Request, resp response) {
	if int(c.full.Load()) == len(c.kinds) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.kinds[req.Kind]) >= capturePerKind {
		return
	}
	h := resp.header.Clone()
	// Hop-by-hop and framing headers belong to the connection, not the
	// response; the ceiling frames its own copy of the body.
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"} {
		h.Del(k)
	}
	body := append([]byte(nil), resp.body...)
	c.kinds[req.Kind] = append(c.kinds[req.Kind], captured{
		status: resp.status, header: h, body: body, length: []string{strconv.Itoa(len(body))},
	})
	if c.keys[req.Kind] == "" {
		c.keys[req.Kind] = shapeKey(req.Method, req.Path)
	}
	if len(c.kinds[req.Kind]) == capturePerKind {
		c.full.Add(1)
	}
}

// count is how many responses of kind i are kept.
func (c *captures) count(i int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.kinds[i])
}

// replaySet is the responses of one request shape.
type replaySet struct {
	resps []captured
	next  atomic.Uint64
}

// ceiling is the bare net/http server the real server is compared with:
// it reads each request's body and writes back a captured response of the
// same shape from memory, so the ratio of the real server's rate to the
// ceiling's is what the server itself costs over HTTP, the client and the
// bytes on the wire, on the same machine.
type ceiling struct {
	srv    *http.Server
	ln     net.Listener
	active atomic.Pointer[map[string]*replaySet]
}

func startCeiling() (*ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &ceiling{ln: ln}
	c.srv = &http.Server{Handler: c, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

func (c *ceiling) baseURL() string { return "http://" + c.ln.Addr().String() }

// use makes the server replay these captures.
func (c *ceiling) use(caps *captures) {
	caps.mu.Lock()
	defer caps.mu.Unlock()
	m := map[string]*replaySet{}
	for i, resps := range caps.kinds {
		if len(resps) == 0 {
			continue
		}
		set := m[caps.keys[i]]
		if set == nil {
			set = &replaySet{}
			m[caps.keys[i]] = set
		}
		set.resps = append(set.resps, resps...)
	}
	c.active.Store(&m)
}

func (c *ceiling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	path := r.URL.Path
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	var set *replaySet
	if m := c.active.Load(); m != nil {
		set = (*m)[shapeKey(r.Method, path)]
	}
	if set == nil {
		http.Error(w, "ceiling: no captured response for "+shapeKey(r.Method, path), http.StatusInternalServerError)
		return
	}
	resp := set.resps[(set.next.Add(1)-1)%uint64(len(set.resps))]
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v // read-only slices, shared by every replay
	}
	h["Content-Length"] = resp.length
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func (c *ceiling) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.srv.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
