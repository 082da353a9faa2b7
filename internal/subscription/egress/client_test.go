package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDNS is a resolver that answers every A query with addr and every
// other query with no records, the way a rebinding attacker's DNS server
// would point an innocent-looking name at the server's own loopback.
func fakeDNS(addr netip.Addr) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, addr)
			return client, nil
		},
	}
}

// serveDNS answers queries on a stream connection (2-byte length framing,
// which the Go resolver uses for any conn that is not a PacketConn).
func serveDNS(c net.Conn, addr netip.Addr) {
	defer c.Close()
	for {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(c, q); err != nil || len(q) < 12 {
			return
		}
		// Question: name labels, then qtype and qclass.
		i := 12
		for i < len(q) && q[i] != 0 {
			i += int(q[i]) + 1
		}
		end := i + 5
		if end > len(q) {
			return
		}
		qtype := binary.BigEndian.Uint16(q[i+1:])
		resp := append([]byte{}, q[:2]...)                   // id
		resp = append(resp, 0x81, 0x80, 0, 1)                // response, RD+RA, NOERROR, 1 question
		answer := qtype == 1 && addr.Is4()                   // A
		resp = append(resp, 0, boolByte(answer), 0, 0, 0, 0) // an, ns, ar counts
		resp = append(resp, q[12:end]...)
		if answer {
			ip := addr.As4()
			resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, ip[:]...)
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// countingServer counts the requests that reached it.
func countingServer(t *testing.T, tlsOn bool, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	wrapped := func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}
	var s *httptest.Server
	if tlsOn {
		s = httptest.NewTLSServer(http.HandlerFunc(wrapped))
	} else {
		s = httptest.NewServer(http.HandlerFunc(wrapped))
	}
	t.Cleanup(s.Close)
	return s, &hits
}

func trustServer(s *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	// httptest's certificate names example.com and 127.0.0.1; the fake DNS
	// name is checked against example.com so verification stays on.
	return &tls.Config{RootCAs: pool, ServerName: "example.com"}
}

// A public-looking name that resolves to loopback is refused when the
// dialer sees the address, and the server never gets the request; an allow
// entry for the address lets the same request through.
func TestClientRefusesRebindingToLoopback(t *testing.T) {
	srv, hits := countingServer(t, true, nil)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	url := "https://rebind.test:" + strconv.Itoa(port) + "/hook"
	tests := []struct {
		allow   string
		wantErr bool
	}{
		{allow: "", wantErr: true},
		{allow: "127.0.0.1:1", wantErr: true}, // another port
		{allow: "127.0.0.1:*", wantErr: false},
		{allow: "127.0.0.1:" + strconv.Itoa(port), wantErr: false},
		{allow: "rebind.test:*", wantErr: false}, // allowed by name: may resolve anywhere
	}
	for _, tt := range tests {
		t.Run("allow="+tt.allow, func(t *testing.T) {
			p, err := ParseAllow(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			c := p.client(2*time.Second, clientOptions{resolver: fakeDNS(netip.MustParseAddr("127.0.0.1")), tls: trustServer(srv)})
			resp, err := c.Get(url)
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET %s: status %d, want refusal", url, resp.StatusCode)
				}
				if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), "loopback") {
					t.Fatalf("GET %s: error %v, want ErrForbiddenAddress naming loopback", url, err)
				}
				if hits.Load() != before {
					t.Fatal("the refused request reached the server")
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || hits.Load() != before+1 {
				t.Fatalf("status %d, hits %d->%d; want 200 and one hit", resp.StatusCode, before, hits.Load())
			}
		})
	}
}

// checkDialed judges resolved addresses without connecting anywhere:
// public ones pass, forbidden ones pass only with a matching allow entry.
func TestCheckDialed(t *testing.T) {
	p, err := ParseAllow("127.0.0.1:8080,[::1]:*")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		resolved string
		wantErr  string
	}{
		{"93.184.216.34:443", ""},
		{"[2606:4700::1111]:443", ""},
		{"127.0.0.1:8080", ""},
		{"127.0.0.1:8081", "loopback"},
		{"[::ffff:127.0.0.1]:8081", "loopback"},
		{"[::1]:9", ""},
		{"10.0.0.1:443", "private"},
		{"169.254.169.254:80", "link-local"},
		{"[fe80::1%eth0]:80", "link-local"},
		{"0.0.0.0:80", "unspecified"},
		{"not-an-address", "cannot read"},
	}
	for _, tt := range tests {
		err := p.checkDialed("name.test:443", tt.resolved)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("checkDialed(%s) = %v, want allowed", tt.resolved, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("checkDialed(%s) = %v, want ErrForbiddenAddress containing %q", tt.resolved, err, tt.wantErr)
		}
	}
}

// Client (the real constructor) re-checks every URL: plain http and literal
// loopback are refused before any connection unless allowed.
func TestClientChecksEveryURL(t *testing.T) {
	srv, hits := countingServer(t, false, nil)
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	tests := []struct {
		allow, url string
		wantErr    string
	}{
		{url: "http://127.0.0.1:" + port + "/", wantErr: "https"},
		{url: "http://localhost:" + port + "/", wantErr: "https"},
		{url: "https://127.0.0.1:" + port + "/", wantErr: "loopback"},
		{url: "https://[::ffff:127.0.0.1]:" + port + "/", wantErr: "loopback"},
		{allow: "127.0.0.1:*", url: "http://localhost:" + port + "/", wantErr: "https"},
		{allow: "127.0.0.1:*", url: "http://127.0.0.1:" + port + "/"},
		{allow: "localhost:" + port, url: "http://localhost:" + port + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.allow+" "+tt.url, func(t *testing.T) {
			p, err := ParseAllow(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			before := hits.Load()
			resp, err := p.Client(2 * time.Second).Get(tt.url)
			if tt.wantErr != "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("status %d, want refusal", resp.StatusCode)
				}
				if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want ErrForbiddenAddress containing %q", err, tt.wantErr)
				}
				if hits.Load() != before {
					t.Fatal("the refused request reached the server")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || hits.Load() != before+1 {
				t.Fatalf("status %d, hits %d->%d; want 200 and one hit", resp.StatusCode, before, hits.Load())
			}
		})
	}
}

// A redirect is returned to the caller, not followed: the Location could
// point anywhere, including places the policy refuses.
func TestClientFollowsNoRedirects(t *testing.T) {
	target, targetHits := countingServer(t, false, nil)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		src, _ := countingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", code)
		})
		p, err := ParseAllow("127.0.0.1:*")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := p.Client(2*time.Second).Post(src.URL+"/hook", "application/fhir+json", strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("status %d, want the redirect %d itself", resp.StatusCode, code)
		}
		if got := resp.Header.Get("Location"); !strings.HasSuffix(got, "/elsewhere") {
			t.Errorf("Location %q not passed back", got)
		}
	}
	if n := targetHits.Load(); n != 0 {
		t.Fatalf("redirect target was hit %d times, want 0", n)
	}
}

// A receiver that never answers cannot hold a delivery past the timeout.
func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	p, err := ParseAllow("127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := p.Client(200 * time.Millisecond).Get(srv.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a hanging receiver answered")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("request took %v with a 200ms timeout", elapsed)
	}
	if errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("timeout reported as a policy refusal: %v", err)
	}
}
