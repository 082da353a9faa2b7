package subscription

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/telederm/telederm/internal/subscription/egress"
)

// clientCache keeps one egress client per timeout, so deliveries reuse
// connections.
type clientCache struct {
	policy  egress.Policy
	mu      sync.Mutex
	clients map[time.Duration]*http.Client
}

func (c *clientCache) get(timeout time.Duration) *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.clients[timeout]
	if cl == nil {
		cl = c.policy.Client(timeout)
		c.clients[timeout] = cl
	}
	return cl
}

// maxReplyBytes is how much of a receiver's answer is read (and dropped),
// so the connection can be reused.
const maxReplyBytes = 64 << 10

// post sends one notification to a rest-hook endpoint: POST, the
// subscription's payload type as Content-Type, each channel header, within
// the subscription's timeout. Only a 2xx answer is a delivery. The error
// names the endpoint without its query (which may carry a secret).
func (m *Manager) post(ctx context.Context, spec *Spec, body []byte) error {
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = m.timing.Timeout
	}
	timeout = min(timeout, m.timing.MaxTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, spec.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("endpoint %s: %v", where(spec.Endpoint), err)
	}
	for _, h := range spec.Headers {
		req.Header.Add(h.Name, h.Value)
	}
	req.Header.Set("Content-Type", spec.MIME)
	req.Header.Set("User-Agent", "Telederm-Subscriptions")
	resp, err := m.clients.get(timeout).Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ue != nil && ue.Timeout() {
			return fmt.Errorf("%s did not answer within %s", where(spec.Endpoint), timeout)
		}
		return fmt.Errorf("cannot reach %s: %w", where(spec.Endpoint), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReplyBytes))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", where(spec.Endpoint), resp.Status)
	}
	return nil
}

// where is an endpoint as errors and logs show it: scheme, host and path.
func where(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "the endpoint"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
