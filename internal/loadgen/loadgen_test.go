package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/synth"
)

// startTelederm runs a real server on loopback over a fresh directory.
func startTelederm(t *testing.T) string {
	t.Helper()
	return servertest.Start(t, server.Config{Auth: "off"})
}

// short is a configuration of a few hundred milliseconds per scenario:
// enough for every request kind to run, no measurement worth the name.
func short(base string) Config {
	return Config{
		BaseURL: base, Clients: 2, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
		Seed: 7, Scenarios: Scenarios(), Load: 250, Ceiling: true,
	}
}

// TestRunAgainstTelederm runs every scenario, with the ceiling, against an
// in-process Telederm and checks the report: no failures, on the server
// or the ceiling, and the text and Markdown forms.
func TestRunAgainstTelederm(t *testing.T) {
	base := startTelederm(t)
	rep, err := Run(context.Background(), short(base))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Load == nil || rep.Load.Resources < 250 || rep.Load.Bundles != 3 {
		t.Fatalf("load = %+v, want 3 Bundles and at least 250 resources", rep.Load)
	}
	if rep.Data.Patients == 0 || rep.Data.Referrals != 2*synth.IngestReferrals || rep.Data.Observations == 0 {
		t.Fatalf("data = %+v", rep.Data)
	}
	if len(rep.Scenarios) != len(Scenarios()) {
		t.Fatalf("%d scenario results, want %d", len(rep.Scenarios), len(Scenarios()))
	}
	for _, s := range rep.Scenarios {
		if s.Errors != 0 || s.Requests == 0 {
			t.Errorf("%s: %d requests, %d errors: %q", s.Name, s.Requests, s.Errors, s.ErrorSamples)
		}
		if s.Ceiling == nil || s.Ceiling.Errors != 0 || s.Ceiling.Requests == 0 || s.Ceiling.Ratio <= 0 {
			t.Errorf("%s: ceiling %+v", s.Name, s.Ceiling)
		}
		// Every ingest request writes; read and search never do (mixed
		// writes in some of its kinds, which a short run may not draw).
		if s.Name != Mixed && (s.Name == Ingest) != (s.ResourcesPerSec > 0) {
			t.Errorf("%s: %v resources/s", s.Name, s.ResourcesPerSec)
		}
		if l := s.Latency; !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
			t.Errorf("%s: latency %+v not ordered", s.Name, l)
		}
	}
	for _, tg := range rep.Targets {
		if tg.Result != "PASS" && tg.Result != "FAIL" {
			t.Errorf("target %q: %q, want PASS or FAIL when its scenario ran", tg.Name, tg.Result)
		}
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"read: ", "% of ceiling ", "search p50 across the mix", "Patient/{id} (40%)", "transaction referral"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "%!") {
		t.Errorf("text report has a formatting error:\n%s", text.String())
	}
	var md bytes.Buffer
	info := MarkdownInfo{Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), Machine: DetectMachine(), Commands: []string{"make bench"}, Took: time.Minute}
	if err := WriteMarkdown(&md, rep, info); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Benchmarks", "2026-01-02 03:04 UTC", "| cores |", "```sh\nmake bench\n```", "| **read** |", "## Targets", "| read by id | >= 40% of the HTTP ceiling |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), "%!") {
		t.Errorf("markdown has a formatting error:\n%s", md.String())
	}
}

// TestReportJSONShape pins the names and types of the JSON report that
// scripts read.
func TestReportJSONShape(t *testing.T) {
	base := startTelederm(t)
	cfg := short(base)
	cfg.Scenarios = []string{Read}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// path -> JSON type (number, string, bool, array, object)
	want := map[string]string{
		"tool": "string", "started": "string", "base_url": "string",
		"config.clients": "number", "config.duration": "string", "config.warmup": "string", "config.seed": "number",
		"config.scenarios": "array", "config.load": "number", "config.ceiling": "bool",
		"load.resources": "number", "load.bundles": "number", "load.seconds": "number", "load.resources_per_sec": "number",
		"data.patients": "number", "data.referrals": "number", "data.observations": "number",
		"scenarios.0.name": "string", "scenarios.0.requests": "number", "scenarios.0.errors": "number",
		"scenarios.0.seconds": "number", "scenarios.0.requests_per_sec": "number", "scenarios.0.resources_per_sec": "number",
		"scenarios.0.latency_ms.p50": "number", "scenarios.0.latency_ms.p90": "number", "scenarios.0.latency_ms.p99": "number",
		"scenarios.0.latency_ms.max": "number", "scenarios.0.latency_ms.mean": "number", "scenarios.0.error_samples": "array",
		"scenarios.0.kinds.0.name": "string", "scenarios.0.kinds.0.share": "number", "scenarios.0.kinds.0.requests": "number",
		"scenarios.0.kinds.0.latency_ms.p99":   "number",
		"scenarios.0.ceiling.requests_per_sec": "number", "scenarios.0.ceiling.ratio": "number", "scenarios.0.ceiling.latency_ms.p50": "number",
		"targets.0.name": "string", "targets.0.want": "string", "targets.0.got": "string", "targets.0.value": "number", "targets.0.result": "string",
	}
	for path, typ := range want {
		v, ok := lookup(doc, path)
		if !ok {
			t.Errorf("%s missing", path)
			continue
		}
		if got := jsonType(v); got != typ {
			t.Errorf("%s is a %s, want a %s", path, got, typ)
		}
	}
	if n := len(doc["targets"].([]any)); n != 3 {
		t.Errorf("%d targets, want 3", n)
	}
	// Only read ran: the other targets say so rather than guess.
	for _, tg := range rep.Targets {
		if want := map[bool]string{true: "PASS|FAIL", false: "n/a"}[tg.Name == "read by id"]; !strings.Contains(want, tg.Result) {
			t.Errorf("target %q: %q, want %s", tg.Name, tg.Result, want)
		}
	}
	if strings.Contains(buf.String(), "token") {
		t.Error("the JSON report mentions a token")
	}
}

func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return nil, false
			}
		case []any:
			if part != "0" || len(x) == 0 {
				return nil, false
			}
			v = x[0]
		default:
			return nil, false
		}
	}
	return v, true
}

func jsonType(v any) string {
	switch v.(type) {
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// TestLoadAndDiscover: loading records every referral with its patient's
// valid NHS number, in generation order; discovery on the same server
// finds the same referrals.
func TestLoadAndDiscover(t *testing.T) {
	base := startTelederm(t)
	c := newClient(2, "")
	ctx := context.Background()
	loaded, stats, err := load(ctx, c, base, 150, 2, 11, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Bundles != 2 {
		t.Fatalf("%d Bundles for 150 resources, want 2", stats.Bundles)
	}
	for _, r := range loaded.Referrals {
		if r.PatientID == "" || !synth.ValidNHSNumber(r.NHSNumber) || len(r.Authored) != 10 {
			t.Errorf("referral %+v", r)
		}
	}
	for _, p := range loaded.Patients {
		if !synth.ValidNHSNumber(p.NHSNumber) || p.Family == "" || p.Given == "" {
			t.Errorf("patient %+v", p)
		}
	}
	// Bundle 0 is referrals, generated first: its patients come first.
	if got := loaded.Referrals[0].PatientID; got != loaded.Patients[0].ID {
		t.Errorf("first referral's patient %s, want the first patient %s", got, loaded.Patients[0].ID)
	}
	found, err := discover(ctx, c, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Referrals) != len(loaded.Referrals) || len(found.Patients) != len(loaded.Patients) || len(found.Observations) != len(loaded.Observations) {
		t.Fatalf("discovered %d/%d/%d patients/referrals/observations, loaded %d/%d/%d",
			len(found.Patients), len(found.Referrals), len(found.Observations), len(loaded.Patients), len(loaded.Referrals), len(loaded.Observations))
	}
	byID := map[string]Referral{}
	for _, r := range loaded.Referrals {
		byID[r.ID] = r
	}
	for _, r := range found.Referrals {
		if byID[r.ID] != r {
			t.Errorf("discovered %+v, loaded %+v", r, byID[r.ID])
		}
	}
	again, err := discover(ctx, c, base)
	if err != nil {
		t.Fatal(err)
	}
	if !equalData(found, again) {
		t.Error("two discoveries on the same data differ")
	}
}

func equalData(a, b *Dataset) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestCeilingReplaysCapturedBytes: the ceiling answers a request with the
// status, headers and body a real server gave one of its shape, round
// robin over the captures, and 500 for a shape it never saw.
func TestCeilingReplaysCapturedBytes(t *testing.T) {
	var n atomic.Int32
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := n.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("ETag", `W/"3"`)
		w.Header().Set("Location", "http://real/Patient/p1/_history/3")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"resourceType":"Patient","id":"p1","n":`+string(rune('0'+n))+`}`)
	}))
	defer real.Close()
	ceil, err := startCeiling()
	if err != nil {
		t.Fatal(err)
	}
	defer ceil.close()

	c := newClient(1, "t0k")
	ctx := context.Background()
	caps := newCaptures(2)
	var originals []response
	for i := range 2 {
		req := Request{Kind: 0, Method: "POST", Path: "Patient/p1?x=" + string(rune('a'+i)), Body: []byte(`{}`)}
		var buf bytes.Buffer
		resp, err := c.do(ctx, real.URL, req, &buf)
		if err != nil {
			t.Fatal(err)
		}
		resp.body = append([]byte(nil), resp.body...)
		originals = append(originals, resp)
		caps.add(req, resp)
	}
	ceil.use(caps)
	for i := range 4 {
		var buf bytes.Buffer
		got, err := c.do(ctx, ceil.baseURL(), Request{Method: "POST", Path: "Patient/other?x=z", Body: []byte(`{"big":1}`)}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		want := originals[i%2]
		if got.status != want.status || !bytes.Equal(got.body, want.body) {
			t.Fatalf("replay %d: %d %s, want %d %s", i, got.status, got.body, want.status, want.body)
		}
		for k, v := range want.header {
			if strings.Join(got.header[k], ",") != strings.Join(v, ",") {
				t.Errorf("replay %d: header %s = %q, want %q", i, k, got.header[k], v)
			}
		}
		if len(got.header) != len(want.header) {
			t.Errorf("replay %d: headers %v, want %v", i, got.header, want.header)
		}
	}
	var buf bytes.Buffer
	got, err := c.do(ctx, ceil.baseURL(), Request{Method: "GET", Path: "Patient/p1"}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.status != http.StatusInternalServerError {
		t.Errorf("unknown shape: %d, want 500", got.status)
	}
}

// TestErrorsCounted: non-2xx answers and transport failures are errors,
// with the first few messages kept, and fail the targets.
func TestErrorsCounted(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "store unavailable", http.StatusInternalServerError)
	}))
	defer failing.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	tests := []struct{ name, base, want string }{
		{"500", failing.URL, "500 Internal Server Error: store unavailable"},
		{"connection refused", closed, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{BaseURL: tt.base, Clients: 2, Duration: 200 * time.Millisecond, Seed: 1,
				Scenarios: []string{Read, Ingest}, Data: sampleData()}
			rep, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range rep.Scenarios {
				if s.Requests == 0 || s.Errors != s.Requests {
					t.Errorf("%s: %d errors in %d requests, want all", s.Name, s.Errors, s.Requests)
				}
				if len(s.ErrorSamples) == 0 || len(s.ErrorSamples) > maxErrorSamples || !strings.Contains(s.ErrorSamples[0], tt.want) {
					t.Errorf("%s: error samples %q, want up to %d with %q", s.Name, s.ErrorSamples, maxErrorSamples, tt.want)
				}
				if s.ResourcesPerSec != 0 {
					t.Errorf("%s: %v resources/s written by failed requests", s.Name, s.ResourcesPerSec)
				}
			}
			for _, tg := range rep.Targets {
				if tg.Name == "ingest" && tg.Result != "FAIL" {
					t.Errorf("ingest target %q with every request failed", tg.Result)
				}
			}
		})
	}
}

// TestTokenSent: every request carries the bearer token.
func TestTokenSent(t *testing.T) {
	var missing, seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			missing.Add(1)
		}
		seen.Add(1)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	cfg := Config{BaseURL: srv.URL, Clients: 1, Duration: 100 * time.Millisecond, Seed: 1,
		Scenarios: []string{Read}, Data: sampleData(), Token: "s3cret"}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if seen.Load() == 0 || missing.Load() != 0 {
		t.Fatalf("%d of %d requests without the token", missing.Load(), seen.Load())
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{BaseURL: "http://localhost:8080", Clients: 1, Duration: time.Second, Scenarios: []string{Read}}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"https with path", func(c *Config) { c.BaseURL = "https://fhir.example/r4" }, ""},
		{"no scheme", func(c *Config) { c.BaseURL = "localhost:8080" }, "not an http(s) URL"},
		{"no clients", func(c *Config) { c.Clients = 0 }, "clients"},
		{"no duration", func(c *Config) { c.Duration = 0 }, "duration"},
		{"negative warm-up", func(c *Config) { c.Warmup = -time.Second }, "warm-up"},
		{"negative load", func(c *Config) { c.Load = -1 }, "load"},
		{"no scenario", func(c *Config) { c.Scenarios = nil }, "no scenario"},
		{"unknown scenario", func(c *Config) { c.Scenarios = []string{"read", "writes"} }, `unknown scenario "writes"`},
		{"repeated scenario", func(c *Config) { c.Scenarios = []string{"read", "read"} }, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
