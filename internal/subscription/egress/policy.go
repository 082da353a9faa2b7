// Package egress decides where the server may send subscription
// notifications. A Subscription's endpoint is chosen by whoever creates it,
// so without a guard the server becomes a proxy into its own network (SSRF):
// loopback admin ports, cloud metadata at 169.254.169.254, private hosts.
// The guard has two halves: CheckEndpoint refuses bad URLs when a
// Subscription is created, and Client re-checks the address actually dialled
// at every delivery, which catches names that resolve (or later re-resolve)
// to a forbidden address.
package egress

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Policy decides which endpoints may receive notifications. The zero value
// allows only https to public addresses.
type Policy struct {
	// entries maps a normalised host (lower case, no trailing dot, IPs in
	// canonical unmapped form) to the ports the operator allowed for it.
	entries map[string]ports
}

// ports is the allowed ports of one host: any, or a set. A host listed
// without a port gets the scheme defaults (80 and 443).
type ports struct {
	any bool
	set map[uint16]bool
}

// ParseAllow reads the operator's --subscriptions-allow list: comma-separated
// HOST[:PORT] entries, PORT may be "*" (e.g. "127.0.0.1:*,hooks.example.org:8443").
// An IPv6 host is written in brackets ("[::1]:*"). A HOST without a port
// allows the default ports, 80 and 443. Empty string = nothing extra allowed.
func ParseAllow(list string) (Policy, error) {
	p := Policy{entries: map[string]ports{}}
	for _, raw := range strings.Split(list, ",") {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		host, port, err := splitEntry(entry)
		if err != nil {
			return Policy{}, fmt.Errorf("subscriptions allow list: entry %q: %w", entry, err)
		}
		ps := p.entries[host]
		switch port {
		case "*":
			ps.any = true
		case "":
			ps.add(80)
			ps.add(443)
		default:
			n, err := strconv.ParseUint(port, 10, 16)
			if err != nil || n == 0 {
				return Policy{}, fmt.Errorf("subscriptions allow list: entry %q: port %q is not a number from 1 to 65535 or *", entry, port)
			}
			ps.add(uint16(n))
		}
		p.entries[host] = ps
	}
	return p, nil
}

func (ps *ports) add(n uint16) {
	if ps.set == nil {
		ps.set = map[uint16]bool{}
	}
	ps.set[n] = true
}

// splitEntry splits HOST[:PORT] and normalises HOST.
func splitEntry(entry string) (host, port string, err error) {
	if strings.Contains(entry, "://") {
		return "", "", fmt.Errorf("write HOST[:PORT], not a URL")
	}
	host = entry
	switch {
	case strings.HasPrefix(entry, "["):
		end := strings.Index(entry, "]")
		if end < 0 {
			return "", "", fmt.Errorf("unclosed [ in IPv6 host")
		}
		host, port = entry[1:end], entry[end+1:]
		if port != "" {
			if !strings.HasPrefix(port, ":") {
				return "", "", fmt.Errorf("expected :PORT after ]")
			}
			port = port[1:]
			if port == "" {
				return "", "", fmt.Errorf("empty port after :")
			}
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return "", "", fmt.Errorf("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(entry, ":") == 1:
		host, port, _ = strings.Cut(entry, ":")
		if port == "" {
			return "", "", fmt.Errorf("empty port after :")
		}
	case strings.Count(entry, ":") > 1:
		return "", "", fmt.Errorf("an IPv6 host must be written in brackets, e.g. [::1]:8080")
	}
	if host == "" {
		return "", "", fmt.Errorf("empty host")
	}
	if strings.ContainsAny(host, "/@?# \t") {
		return "", "", fmt.Errorf("host %q has characters a host name cannot have", host)
	}
	return normalizeHost(host), port, nil
}

// normalizeHost makes equal hosts compare equal: lower case, no trailing
// dot, IP literals in canonical form with IPv4-mapped IPv6 unmapped.
func normalizeHost(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return host
}

// allows reports whether the operator listed host (any form) with port.
func (p Policy) allows(host string, port uint16) bool {
	ps, ok := p.entries[normalizeHost(host)]
	return ok && (ps.any || ps.set[port])
}

// allowsHostPort is allows for a "host:port" dial address.
func (p Policy) allowsHostPort(addr string) bool {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return false
	}
	return p.allows(host, uint16(port))
}
