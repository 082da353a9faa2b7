package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Request is one HTTP request of a scenario, relative to a base URL.
type Request struct {
	Kind      int    // index into the scenario's kinds
	Method    string // GET or POST
	Path      string // relative to the base URL, no leading slash, query included
	Body      []byte // nil for GET; shared, never modified
	Resources int    // resources the request writes when it succeeds
}

// client sends requests with the headers every request carries. One client
// serves both the real server and the ceiling, so both see the same
// connection pooling and the same header bytes.
type client struct {
	http  *http.Client
	token string
}

func newClient(clients int, token string) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback and lab servers: never through a proxy
		MaxIdleConns:        4 * clients,
		MaxIdleConnsPerHost: 2 * clients, // keep one warm connection per worker
		IdleConnTimeout:     90 * time.Second,
		// Without this the transport asks for gzip and inflates bodies on
		// its own; the ceiling could then not replay the exact bytes.
		DisableCompression: true,
	}
	return &client{http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, token: token}
}

// response is what came back, the body read into buf.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends r to base and reads the whole body into buf (reset first), so a
// worker reuses one buffer for all its requests.
func (c *client) do(ctx context.Context, base string, r Request, buf *bytes.Buffer) (response, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, base+"/"+r.Path, body)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return response{}, fmt.Errorf("read body: %w", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}, nil
}

// get is one request outside the measured phases (loading, discovery),
// where a non-2xx answer is an error.
func (c *client) get(ctx context.Context, base string, r Request) ([]byte, error) {
	var buf bytes.Buffer
	resp, err := c.do(ctx, base, r, &buf)
	if err != nil {
		return nil, err
	}
	if resp.status/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s", r.Method, pathOnly(r.Path), statusError(resp))
	}
	return resp.body, nil
}

// statusError describes a non-2xx response: the status and the start of
// the body (an OperationOutcome, usually), on one line.
func statusError(r response) string {
	msg := strings.Join(strings.Fields(string(r.body[:min(len(r.body), 300)])), " ")
	return fmt.Sprintf("%d %s: %s", r.status, http.StatusText(r.status), msg)
}

// pathOnly drops the query, whose values (NHS numbers, names) do not
// belong in logs and reports.
func pathOnly(p string) string {
	path, query, ok := strings.Cut(p, "?")
	if ok && query != "" {
		return path + "?..."
	}
	return path
}
