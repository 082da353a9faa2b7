package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// startConformanceTarget starts an in-process Telederm on a temporary data
// directory; wrap, when set, wraps its handler (a test double breaking a
// rule on purpose). Notifications may go to the runner's receiver on
// loopback, as --subscriptions-allow 127.0.0.1:* allows.
func startConformanceTarget(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	cfg := server.Config{Auth: "off", SubscriptionsAllow: "127.0.0.1:*"}
	if wrap == nil {
		return servertest.Start(t, cfg)
	}
	return servertest.Start(t, cfg, wrap)
}

func runConformance(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"conformance"}, args...), &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func TestConformanceAgainstTelederm(t *testing.T) {
	base := startConformanceTarget(t, nil)
	dir := t.TempDir()
	report, junit := filepath.Join(dir, "report.json"), filepath.Join(dir, "junit.xml")
	code, stdout, stderr := runConformance(t, map[string]string{"TELEDERM_BASE_URL": base},
		"--report", report, "--junit", junit, "--token", "t0ken")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"SCRIPT", "create-read", "create-etag", "pass",
		"server does not advertise SMART (no rest.security oauth-uris extension)", " 0 failed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	for _, test := range []string{"subscription-create", "rest-hook-delivery", "subscription-status"} {
		if !passed(stdout, test) {
			t.Errorf("%s did not pass:\n%s", test, stdout)
		}
	}

	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		ResourceType, Type string
		Entry              []struct {
			Resource struct {
				ResourceType, Status, Result string
				Test                         []struct{ Name string }
			}
		}
	}
	if err := json.Unmarshal(raw, &bundle); err != nil || bundle.ResourceType != "Bundle" || len(bundle.Entry) < 5 {
		t.Fatalf("--report %s: %v\n%.300s", report, err, raw)
	}
	for _, e := range bundle.Entry {
		r := e.Resource
		if r.ResourceType != "TestReport" || r.Status != "completed" || r.Result == "fail" || len(r.Test) == 0 {
			t.Errorf("TestReport %+v", r)
		}
	}

	raw, err = os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(raw, &suites); err != nil {
		t.Fatalf("--junit: %v\n%.300s", err, raw)
	}
	if suites.Tests < 40 || suites.Failures != 0 || len(suites.Suites) != len(bundle.Entry) {
		t.Errorf("JUnit: %d tests, %d failures, %d suites", suites.Tests, suites.Failures, len(suites.Suites))
	}
}

func TestConformanceAgainstBrokenServer(t *testing.T) {
	// Telederm with one rule broken: no ETag on create.
	base := startConformanceTarget(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := strings.Trim(r.URL.Path, "/"); r.Method == http.MethodPost && p != "" && !strings.Contains(p, "/") {
				w = dropETag{w}
			}
			next.ServeHTTP(w, r)
		})
	})
	junit := filepath.Join(t.TempDir(), "junit.xml")
	code, stdout, stderr := runConformance(t, nil, "--base", base, "--junit", junit)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var failing []string
	for _, line := range strings.Split(stdout, "\n") {
		if strings.Contains(line, " FAIL ") {
			failing = append(failing, line)
		}
	}
	if len(failing) != 1 || !strings.Contains(failing[0], "create-etag") || !strings.Contains(failing[0], `expected "W/\"1\"", got nothing`) {
		t.Errorf("failing rows %q\n%s", failing, stdout)
	}
	raw, _ := os.ReadFile(junit)
	if !bytes.Contains(raw, []byte(`<failure message="ETag is W/&#34;1&#34;: header ETag: expected &#34;W/\&#34;1\&#34;&#34;, got nothing"`)) {
		t.Errorf("JUnit lacks the failure:\n%.2000s", raw)
	}
}

type dropETag struct{ http.ResponseWriter }

func (d dropETag) WriteHeader(code int) {
	d.Header().Del("ETag")
	d.ResponseWriter.WriteHeader(code)
}

func (d dropETag) Write(b []byte) (int, error) {
	d.Header().Del("ETag")
	return d.ResponseWriter.Write(b)
}

func TestConformanceOwnTestsAndVars(t *testing.T) {
	base := startConformanceTarget(t, nil)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "Patient"), 0o755)
	os.WriteFile(filepath.Join(dir, "Patient", "mine.json"), []byte(`{"resourceType":"Patient","name":[{"family":"${family}"}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "mine.json"), []byte(`{"resourceType":"TestScript","id":"mine","url":"http://example.org/TestScript/mine","name":"Mine","status":"active",
		"fixture":[{"id":"p","autocreate":true,"autodelete":true,"resource":{"reference":"Patient/mine"}}],
		"variable":[{"name":"family","hint":"[a family name]"}],
		"test":[{"id":"search-mine","action":[
			{"operation":{"type":{"code":"search"},"resource":"Patient","params":"?family=${family}","encodeRequestUrl":true}},
			{"assert":{"response":"okay","warningOnly":false}},
			{"assert":{"expression":"Bundle.entry.count() >= 1","warningOnly":false}}]}]}`), 0o644)

	code, stdout, stderr := runConformance(t, nil, "--base", base, "--builtin=false", "--tests", dir, "--var", "family=Own", "-v")
	if code != 0 || !strings.Contains(stdout, "mine    search-mine  pass") || !strings.Contains(stderr, "GET "+base+"/Patient?family=Own -> 200") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Without the variable, the test says what it needs.
	code, stdout, _ = runConformance(t, nil, "--base", base, "--builtin=false", "--tests", dir)
	if code != 0 || !strings.Contains(stdout, "variable ${family} has no value (hint: [a family name]): give it one with --var family=VALUE") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	code, stdout, _ = runConformance(t, nil, "--tests", dir, "--list", "--run", "^(mine|capabilities)/")
	if code != 0 || !strings.Contains(stdout, "mine/search-mine") || !strings.Contains(stdout, "capabilities/metadata") || strings.Contains(stdout, "search/") {
		t.Errorf("--list: exit %d\n%s", code, stdout)
	}
}

func TestConformanceFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give the server's FHIR base URL with --base"},
		{[]string{"--base", "ftp://x"}, "want an http:// or https:// URL"},
		{[]string{"--base", "http://x", "--client-id", "app"}, "--client-id and --key go together"},
		{[]string{"--base", "http://x", "--client-id", "app", "--key", "/does/not/exist.json"}, "--key"},
		{[]string{"--base", "http://x", "--var", "novalue"}, "want name=value"},
		{[]string{"--base", "http://x", "--run", "("}, "--run"},
		{[]string{"--base", "http://x", "--builtin=false"}, "leaves nothing to run"},
		{[]string{"--base", "http://x", "--tests", "/does/not/exist"}, "--tests"},
		{[]string{"--base", "http://x", "extra"}, "unexpected argument"},
	} {
		code, _, stderr := runConformance(t, nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if code, _, stderr := runConformance(t, nil, "-h"); code != 0 || !strings.Contains(stderr, "usage: telederm conformance") {
		t.Errorf("-h: exit %d\n%s", code, stderr)
	}
	c, err := parseConformanceFlags([]string{"--var", "a=b=c"}, io.Discard, func(k string) string {
		return map[string]string{"TELEDERM_BASE_URL": "http://h/fhir/", "TELEDERM_TOKEN": "tk"}[k]
	})
	if err != nil || c.base != "http://h/fhir" || c.token != "tk" || c.vars["a"] != "b=c" {
		t.Errorf("config %+v, %v", c, err)
	}
}
