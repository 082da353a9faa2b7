package egress

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// CheckEndpoint validates a channel endpoint URL when a Subscription is
// created: absolute URL, https required unless the host[:port] is allowed
// (then http is accepted too), no userinfo, and literal IPs in
// loopback/link-local/private/unspecified/multicast/reserved ranges (v4 and
// v6, incl. IPv4-mapped, NAT64 and 6to4) refused unless allowed. The names
// "localhost" and "*.localhost" are refused too: they always mean loopback.
// Other names are not resolved here (the answer could change before the
// first delivery); Client checks the address it actually dials.
// The error text names the problem; it goes into an OperationOutcome.
func (p Policy) CheckEndpoint(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("channel endpoint is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("channel endpoint is not a valid URL: %v", unwrapURLError(err))
	}
	shown := redact(u) // the URL as echoed in errors: never with a password
	scheme := strings.ToLower(u.Scheme)
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("channel endpoint %q must be an absolute http(s) URL with a host", shown)
	}
	if scheme != "https" && scheme != "http" {
		return fmt.Errorf("channel endpoint %q: scheme %q is not supported (use https)", shown, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("channel endpoint %q must not carry a user name or password; use channel.header for credentials", shown)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("channel endpoint %q has no host", shown)
	}
	port, err := effectivePort(u)
	if err != nil {
		return fmt.Errorf("channel endpoint %q: %v", shown, err)
	}
	if p.allows(host, port) {
		return nil
	}
	if scheme != "https" {
		return fmt.Errorf("channel endpoint %q must use https (http is accepted only for hosts the server operator allows with --subscriptions-allow)", shown)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if why := forbidden(a); why != "" {
			return fmt.Errorf("channel endpoint %q points at a %s address, which the server does not send notifications to unless the operator allows it with --subscriptions-allow", shown, why)
		}
		return nil
	}
	if name := normalizeHost(host); name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("channel endpoint %q points at localhost (loopback), which the server does not send notifications to unless the operator allows it with --subscriptions-allow", shown)
	}
	return nil
}

// effectivePort is the URL's port, or the scheme's default.
func effectivePort(u *url.URL) (uint16, error) {
	if s := u.Port(); s != "" {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
		}
		return uint16(n), nil
	}
	if strings.EqualFold(u.Scheme, "http") {
		return 80, nil
	}
	return 443, nil
}

// redact drops the password so it never reaches an OperationOutcome or log.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// unwrapURLError keeps just the reason: url.Error repeats the whole URL,
// which may hold a password.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
