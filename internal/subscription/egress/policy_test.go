package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseAllow(t *testing.T) {
	tests := []struct {
		list    string
		wantErr string // substring; "" = valid
		allowed []string
		refused []string // host:port pairs that must stay refused
	}{
		{list: "", refused: []string{"127.0.0.1:80", "localhost:443"}},
		{list: " , ,", refused: []string{"127.0.0.1:80"}},
		{list: "127.0.0.1:*", allowed: []string{"127.0.0.1:1", "127.0.0.1:65535", "[::ffff:127.0.0.1]:8080"}, refused: []string{"127.0.0.2:80", "localhost:80"}},
		{list: "hooks.example.org:8443", allowed: []string{"hooks.example.org:8443", "HOOKS.Example.ORG.:8443"}, refused: []string{"hooks.example.org:443", "example.org:8443"}},
		{list: "hooks.example.org", allowed: []string{"hooks.example.org:80", "hooks.example.org:443"}, refused: []string{"hooks.example.org:8080"}},
		{list: "[::1]:*, localhost:9000", allowed: []string{"[::1]:5", "localhost:9000"}, refused: []string{"localhost:9001", "127.0.0.1:9000"}},
		{list: "[::1]", allowed: []string{"[::1]:443"}, refused: []string{"[::1]:8080"}},
		{list: "a:1,a:2", allowed: []string{"a:1", "a:2"}, refused: []string{"a:3"}},
		{list: "::1", wantErr: "brackets"},
		{list: "[::1", wantErr: "unclosed"},
		{list: "[nothost]:80", wantErr: "not an IPv6 address"},
		{list: "[::1]80", wantErr: "expected :PORT"},
		{list: "host:", wantErr: "empty port"},
		{list: ":80", wantErr: "empty host"},
		{list: "host:0", wantErr: "port"},
		{list: "host:70000", wantErr: "port"},
		{list: "host:http", wantErr: "port"},
		{list: "http://host", wantErr: "not a URL"},
		{list: "a/b:80", wantErr: "characters"},
		{list: "ok:1,user@host:2", wantErr: `entry "user@host:2"`},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			p, err := ParseAllow(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAllow(%q) error = %v, want one containing %q", tt.list, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAllow(%q): %v", tt.list, err)
			}
			for _, hp := range tt.allowed {
				if !p.allowsHostPort(hp) {
					t.Errorf("%s refused, want allowed", hp)
				}
			}
			for _, hp := range tt.refused {
				if p.allowsHostPort(hp) {
					t.Errorf("%s allowed, want refused", hp)
				}
			}
		})
	}
}

func TestForbidden(t *testing.T) {
	tests := []struct {
		addr string
		want string // substring of the reason; "" = public
	}{
		{"8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "this network"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"fd00::1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "shared"},
		{"255.255.255.255", "reserved"},
		{"198.18.0.1", "benchmarking"},
		{"64:ff9b::7f00:1", "loopback (embedded"},
		{"64:ff9b::808:808", ""},
		{"2002:a00:1::1", "private (embedded"},
		{"2002:808:808::1", ""},
	}
	for _, tt := range tests {
		got := forbidden(netip.MustParseAddr(tt.addr))
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("forbidden(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
