package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/server"
)

func TestBenchFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string // in stderr
	}{
		{"bad duration", []string{"--base", "http://localhost:8080", "--duration", "5x"}, nil, 2, `invalid value "5x" for flag -duration`},
		{"bad warm-up", []string{"--base", "http://localhost:8080", "--warmup", "soon"}, nil, 2, "-warmup"},
		{"negative duration", []string{"--base", "http://localhost:8080", "--duration", "-1s"}, nil, 2, "duration must be positive"},
		{"unknown scenario", []string{"--base", "http://localhost:8080", "--scenario", "read,write"}, nil, 2, `unknown scenario "write"`},
		{"repeated scenario", []string{"--base", "http://localhost:8080", "--scenario", "read,read"}, nil, 2, "twice"},
		{"empty scenario list", []string{"--base", "http://localhost:8080", "--scenario", ","}, nil, 2, "no scenario"},
		{"no base URL", nil, nil, 2, "--base"},
		{"base and spawn", []string{"--base", "http://localhost:8080", "--spawn"}, nil, 2, "exclude"},
		{"base not a URL", []string{"--base", "localhost:8080"}, nil, 2, "not an http(s) URL"},
		{"no clients", []string{"--base", "http://localhost:8080", "--clients", "0"}, nil, 2, "clients must be at least 1"},
		{"bad seed", []string{"--base", "http://localhost:8080", "--seed", "-3"}, nil, 2, "-seed"},
		{"negative load", []string{"--spawn", "--load", "-5"}, nil, 2, "load must not be negative"},
		{"stray argument", []string{"--base", "http://localhost:8080", "read"}, nil, 2, `unexpected argument "read"`},
		{"unknown flag", []string{"--base", "http://localhost:8080", "--rate", "5"}, nil, 2, "-rate"},
		{"bad base from the environment", nil, map[string]string{"TELEDERM_BASE_URL": "nowhere"}, 2, "not an http(s) URL"},
		{"help", []string{"-h"}, nil, 0, "--spawn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := run(context.Background(), append([]string{"bench"}, tt.args...), &stdout, &stderr, getenv)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tt.code, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

func TestBenchStandardFlags(t *testing.T) {
	env := func(string) string { return "" }
	c, err := parseBenchFlags([]string{"--spawn", "--standard"}, io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.run.Load != 100_000 || !c.run.Ceiling || strings.Join(c.run.Scenarios, ",") != "read,search,mixed,ingest" {
		t.Errorf("--standard: %+v", c.run)
	}
	// A flag given wins over the standard value.
	c, err = parseBenchFlags([]string{"--spawn", "--standard", "--load", "500", "--ceiling=false"}, io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.run.Load != 500 || c.run.Ceiling {
		t.Errorf("--standard --load 500 --ceiling=false: load %d, ceiling %v", c.run.Load, c.run.Ceiling)
	}
	c, err = parseBenchFlags([]string{"--base", "http://h:1/"}, io.Discard, func(k string) string {
		return map[string]string{"TELEDERM_TOKEN": "from-env"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.run.Token != "from-env" || c.run.Load != 0 || c.run.Ceiling {
		t.Errorf("defaults: %+v", c.run)
	}
}

func TestBenchRedactsToken(t *testing.T) {
	got := strings.Join(redactToken([]string{"--token", "abc", "--clients", "2", "--token=def", "-token", "ghi"}), " ")
	if strings.Contains(got, "abc") || strings.Contains(got, "def") || strings.Contains(got, "ghi") {
		t.Errorf("redactToken left a token: %s", got)
	}
}

// TestBenchAgainstServer runs the command end to end, briefly, against an
// in-process server, and checks the files it writes.
func TestBenchAgainstServer(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), BaseURL: base, Auth: "off", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	defer func() { ts.Close(); _ = app.Close() }()

	dir := t.TempDir()
	jsonPath, mdPath := filepath.Join(dir, "report.json"), filepath.Join(dir, "BENCHMARKS.md")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"bench", "--base", base, "--load", "120", "--clients", "2",
		"--duration", "200ms", "--warmup", "0s", "--scenario", "read,ingest", "--ceiling", "--token", "t0ken",
		"--json", jsonPath, "--markdown", mdPath}, &stdout, &stderr, func(string) string { return "" })
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "of ceiling") {
		t.Errorf("stdout lacks the ceiling comparison:\n%s", stdout.String())
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Scenarios []struct{ Name string } `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Scenarios) != 2 || rep.Scenarios[0].Name != "read" {
		t.Errorf("JSON report %s (%v)", raw, err)
	}
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Commands", "telederm bench --base " + base + " --load 120 --clients 2", "## Targets"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("BENCHMARKS.md lacks %q:\n%s", want, md)
		}
	}
	if bytes.Contains(md, []byte("t0ken")) || bytes.Contains(raw, []byte("t0ken")) {
		t.Error("the token leaked into a report")
	}
}
