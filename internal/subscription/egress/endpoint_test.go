package egress

import (
	"strings"
	"testing"
)

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		allow   string
		url     string
		wantErr string // substring; "" = accepted
	}{
		{url: "https://hooks.example.org/notify", wantErr: ""},
		{url: "https://hooks.example.org:8443/notify?x=1", wantErr: ""},
		{url: "https://8.8.8.8/hook", wantErr: ""},
		{url: "https://[2606:4700:4700::1111]/hook", wantErr: ""},
		{url: "", wantErr: "empty"},
		{url: "/relative/path", wantErr: "absolute"},
		{url: "hooks.example.org/notify", wantErr: "absolute"},
		{url: "mailto:someone@example.org", wantErr: "absolute"},
		{url: "ftp://hooks.example.org/x", wantErr: `scheme "ftp"`},
		{url: "ws://hooks.example.org/x", wantErr: `scheme "ws"`},
		{url: "http://hooks.example.org/notify", wantErr: "must use https"},
		{url: "https://user:secret@hooks.example.org/", wantErr: "user name or password"},
		{url: "https://user@hooks.example.org/", wantErr: "user name or password"},
		{url: "https://hooks.example.org:0/", wantErr: "port"},
		{url: "https://hooks.example.org:99999/", wantErr: "port"},
		{url: "https://%zz/", wantErr: "not a valid URL"},
		{url: "https://127.0.0.1/", wantErr: "loopback"},
		{url: "https://127.0.0.1:8080/", wantErr: "loopback"},
		{url: "https://[::1]:8080/", wantErr: "loopback"},
		{url: "https://[::ffff:127.0.0.1]/", wantErr: "loopback"},
		{url: "https://[::ffff:10.0.0.1]/", wantErr: "private"},
		{url: "https://0.0.0.0/", wantErr: "unspecified"},
		{url: "https://[::]/", wantErr: "unspecified"},
		{url: "https://10.0.0.5/", wantErr: "private"},
		{url: "https://192.168.0.10/", wantErr: "private"},
		{url: "https://[fc00::1]/", wantErr: "private"},
		{url: "https://169.254.169.254/latest/meta-data", wantErr: "link-local"},
		{url: "https://[fe80::1%25eth0]/", wantErr: "link-local"},
		{url: "https://239.1.1.1/", wantErr: "multicast"},
		{url: "https://[ff05::2]/", wantErr: "multicast"},
		{url: "https://localhost/", wantErr: "localhost"},
		{url: "https://LocalHost./", wantErr: "localhost"},
		{url: "https://api.localhost:9000/", wantErr: "localhost"},
		// Allowed entries open both schemes for that host and port only.
		{allow: "127.0.0.1:*", url: "http://127.0.0.1:8080/hook"},
		{allow: "127.0.0.1:*", url: "https://127.0.0.1/hook"},
		{allow: "127.0.0.1:*", url: "http://[::ffff:127.0.0.1]:9/hook"},
		{allow: "127.0.0.1:*", url: "http://127.0.0.2:8080/hook", wantErr: "must use https"},
		{allow: "127.0.0.1:*", url: "https://127.0.0.2:8080/hook", wantErr: "loopback"},
		{allow: "127.0.0.1:*", url: "http://localhost:8080/hook", wantErr: "must use https"},
		{allow: "hooks.example.org:8443", url: "http://hooks.example.org:8443/x"},
		{allow: "hooks.example.org:8443", url: "http://hooks.example.org/x", wantErr: "must use https"},
		{allow: "hooks.example.org", url: "http://hooks.example.org/x"},
		{allow: "hooks.example.org", url: "http://hooks.example.org:8080/x", wantErr: "must use https"},
		{allow: "localhost:*", url: "http://localhost:3000/x"},
		{allow: "[::1]:8080", url: "http://[::1]:8080/x"},
		{allow: "[::1]:8080", url: "http://[::1]:8081/x", wantErr: "must use https"},
		{allow: "10.0.0.5:443", url: "https://10.0.0.5/x"},
		// An allow entry never excuses credentials in the URL.
		{allow: "localhost:*", url: "http://u:p@localhost:3000/x", wantErr: "user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.allow+" "+tt.url, func(t *testing.T) {
			p, err := ParseAllow(tt.allow)
			if err != nil {
				t.Fatal(err)
			}
			err = p.CheckEndpoint(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckEndpoint(%q) = %v, want accepted", tt.url, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckEndpoint(%q) = %v, want an error containing %q", tt.url, err, tt.wantErr)
			}
		})
	}
}

// The password must never be echoed: the error goes into an OperationOutcome
// and may be logged.
func TestCheckEndpointDoesNotEchoPassword(t *testing.T) {
	for _, raw := range []string{
		"https://user:hunter2@hooks.example.org/",
		"http://user:hunter2@10.0.0.1/",
		"https://user:hunter2@host:badport/",
	} {
		err := Policy{}.CheckEndpoint(raw)
		if err == nil {
			t.Fatalf("CheckEndpoint(%q) accepted", raw)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckEndpoint(%q) error echoes the password: %v", raw, err)
		}
	}
}
