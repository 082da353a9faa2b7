package main

import (
	"io"
	"testing"
)

func TestServeFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"TELEDERM_ADDR": "127.0.0.1:9000", "TELEDERM_DATA": "/srv/td", "TELEDERM_MAX_BODY": "1MiB", "TELEDERM_SUBSCRIPTIONS_ALLOW": "127.0.0.1:*"}
	getenv := func(k string) string { return env[k] }
	c, err := parseServeFlags([]string{"--data", "/flag/wins", "--base-url", "https://fhir.example.nhs.uk/r4/"}, io.Discard, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:9000" || c.data != "/flag/wins" || c.maxBody != 1<<20 || c.baseURL != "https://fhir.example.nhs.uk/r4" || c.auth != "smart" || c.subscriptionsAllow != "127.0.0.1:*" {
		t.Errorf("config %+v", c)
	}
	for _, bad := range [][]string{{"--auth", "basic"}, {"--sync", "sometimes"}, {"--max-body", "lots"}, {"extra"}, {"--subscriptions-allow", "http://hooks.example"}} {
		if _, err := parseServeFlags(bad, io.Discard, func(string) string { return "" }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"16MiB": 16 << 20, "512KiB": 512 << 10, "1048576": 1048576, "2GB": 2e9, " 3 MiB ": 3 << 20} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "0", "1.5MiB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

func TestDefaultBaseURL(t *testing.T) {
	for addr, want := range map[string]string{
		"[::]:8080":      "http://localhost:8080",
		"0.0.0.0:80":     "http://localhost:80",
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		":8080":          "http://localhost:8080",
	} {
		if got := defaultBaseURL(addr); got != want {
			t.Errorf("defaultBaseURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	if code := run(t.Context(), nil, io.Discard, io.Discard, func(string) string { return "" }); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
	if code := run(t.Context(), []string{"frobnicate"}, io.Discard, io.Discard, func(string) string { return "" }); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}
