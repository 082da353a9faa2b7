package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is wrapped by every refusal of Client's dialer, so the
// delivery loop can tell a policy refusal (permanent) from a network fault.
var ErrForbiddenAddress = errors.New("notification endpoint address refused")

// Client returns an HTTP client for deliveries. Its dialer re-checks the IP
// it is about to connect to (DNS rebinding: a hostname resolving to
// 127.0.0.1 is refused unless allowed), it follows no redirects (the 3xx
// response comes back to the caller), it ignores proxy settings (a proxy
// would make the dial-time check moot), every request URL is re-checked with
// CheckEndpoint (the allow list may have changed since the Subscription was
// created), and the whole request is bounded by timeout.
func (p Policy) Client(timeout time.Duration) *http.Client {
	return p.client(timeout, clientOptions{})
}

// clientOptions are the seams tests use: a fake DNS and a TLS config that
// trusts httptest's certificate. Zero values mean the system's.
type clientOptions struct {
	resolver *net.Resolver
	tls      *tls.Config
}

func (p Policy) client(timeout time.Duration, o clientOptions) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           p.dialContext(timeout, o.resolver),
		TLSClientConfig:       o.tls,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: checkedTransport{policy: p, next: tr},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// dialContext dials through a net.Dialer whose Control hook sees every
// address after resolution, right before connect: the one place where a
// rebinding answer cannot slip past. A host the operator allowed by name
// may resolve anywhere; otherwise the resolved IP must be public or itself
// allowed with that port.
func (p Policy) dialContext(timeout time.Duration, resolver *net.Resolver) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		byName := p.allowsHostPort(addr)
		d := &net.Dialer{
			Timeout:  timeout,
			Resolver: resolver,
			Control: func(_, address string, _ syscall.RawConn) error {
				if byName {
					return nil
				}
				return p.checkDialed(addr, address)
			},
		}
		return d.DialContext(ctx, network, addr)
	}
}

// checkDialed judges the resolved "ip:port" the dialer is connecting to for
// the requested "host:port".
func (p Policy) checkDialed(requested, resolved string) error {
	ap, err := netip.ParseAddrPort(resolved)
	if err != nil {
		return fmt.Errorf("%w: cannot read dialled address %q: %v", ErrForbiddenAddress, resolved, err)
	}
	if p.allows(ap.Addr().String(), ap.Port()) {
		return nil
	}
	if why := forbidden(ap.Addr()); why != "" {
		return fmt.Errorf("%w: %s resolved to %s, a %s address not in --subscriptions-allow", ErrForbiddenAddress, requested, ap.Addr().Unmap(), why)
	}
	return nil
}

// checkedTransport re-applies CheckEndpoint to every request before it is
// sent.
type checkedTransport struct {
	policy Policy
	next   http.RoundTripper
}

func (t checkedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.policy.CheckEndpoint(r.URL.String()); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("%w: %v", ErrForbiddenAddress, err)
	}
	return t.next.RoundTrip(r)
}
