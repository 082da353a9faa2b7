package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/telederm/telederm/conformance/suite"
)

// conformanceConfig is everything conformance reads from flags and the
// environment.
type conformanceConfig struct {
	base, token, clientID, key string
	scope                      string
	tests                      []string
	builtin, list, verbose     bool
	filter                     *regexp.Regexp
	vars                       map[string]string
	report, junit              string
	timeout                    time.Duration
	receiverAddr, receiverURL  string
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

const conformanceUsage = `usage: telederm conformance --base URL [flags]

Runs the conformance suite, FHIR R4 TestScripts, against any FHIR R4 server
and prints a table of results (pass / fail / skip with the reason). Exit
status: 0 when nothing failed, 1 when a test failed, 2 for a usage error.

The suite's own TestScripts are built in; --tests DIR adds an integrator's
(*.json TestScripts in DIR; fixtures they reference by path are read
relative to DIR, "Patient/example" as DIR/Patient/example.json).

flags:
`

func parseConformanceFlags(args []string, stderr io.Writer, getenv func(string) string) (conformanceConfig, error) {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), conformanceUsage)
		fs.PrintDefaults()
	}
	c := conformanceConfig{vars: map[string]string{}}
	var tests, vars repeated
	var run string
	fs.StringVar(&c.base, "base", getenv("TELEDERM_BASE_URL"), "FHIR base URL of the server under test (TELEDERM_BASE_URL)")
	fs.StringVar(&c.token, "token", getenv("TELEDERM_TOKEN"), "bearer token sent as Authorization: Bearer to the server (TELEDERM_TOKEN)")
	fs.StringVar(&c.clientID, "client-id", getenv("TELEDERM_CLIENT_ID"), "SMART backend services client id, with --key: the suite signs client assertions (the SMART tests) and, without --token, gets its token this way (TELEDERM_CLIENT_ID)")
	fs.StringVar(&c.key, "key", getenv("TELEDERM_CLIENT_KEY"), "the client's private key: a JWK or JWKS file, RSA (RS384) or P-384 (ES384) (TELEDERM_CLIENT_KEY)")
	fs.StringVar(&c.scope, "scope", "system/*.cruds", "scopes asked for with --client-id/--key")
	fs.Var(&tests, "tests", "directory of more TestScripts (*.json) to run; may be repeated")
	fs.BoolVar(&c.builtin, "builtin", true, "run the built-in suite (--builtin=false runs only --tests)")
	fs.StringVar(&run, "run", "", "run only the tests whose script-id/test-id matches this regular expression")
	fs.Var(&vars, "var", "give a TestScript variable a value, name=value (a variable with only a hint needs one); may be repeated")
	fs.StringVar(&c.report, "report", "", "write the results as a FHIR R4 Bundle of TestReports to this file")
	fs.StringVar(&c.junit, "junit", "", "write the results as JUnit XML to this file")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "time limit of each request")
	fs.StringVar(&c.receiverAddr, "receiver-addr", "127.0.0.1:0", `listen address of the runner's rest-hook receiver for subscription tests ("off" for none)`)
	fs.StringVar(&c.receiverURL, "receiver-url", "", "URL at which the server under test reaches the receiver (default: http:// and the address bound)")
	fs.BoolVar(&c.list, "list", false, "list the TestScripts and tests, then exit without running them")
	fs.BoolVar(&c.verbose, "v", false, "log each request to stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.tests = tests
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return c, fmt.Errorf("--var %q: want name=value", v)
		}
		c.vars[name] = value
	}
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			return c, fmt.Errorf("--run: %w", err)
		}
		c.filter = re
	}
	if !c.builtin && len(c.tests) == 0 {
		return c, errors.New("--builtin=false leaves nothing to run: give --tests DIR")
	}
	if c.list {
		return c, nil
	}
	if (c.clientID == "") != (c.key == "") {
		return c, errors.New("--client-id and --key go together")
	}
	c.base = strings.TrimRight(c.base, "/")
	if c.base == "" {
		return c, errors.New("give the server's FHIR base URL with --base (or TELEDERM_BASE_URL)")
	}
	if !strings.HasPrefix(c.base, "http://") && !strings.HasPrefix(c.base, "https://") {
		return c, fmt.Errorf("--base %q: want an http:// or https:// URL", c.base)
	}
	return c, nil
}

func conformanceCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c, err := parseConformanceFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "telederm conformance:", err)
		return 2
	}
	scripts, err := loadConformanceScripts(c)
	if err != nil {
		fmt.Fprintln(stderr, "telederm conformance:", err)
		return 2
	}
	if c.list {
		listConformanceScripts(stdout, scripts, c.filter)
		return 0
	}

	opts := suite.Options{
		Base: c.base, Token: c.token, Vars: c.vars, Filter: c.filter,
		Client: &http.Client{Timeout: c.timeout},
	}
	if c.clientID != "" {
		data, err := os.ReadFile(c.key)
		if err != nil {
			fmt.Fprintln(stderr, "telederm conformance: --key:", err)
			return 2
		}
		if opts.ClientKey, err = suite.LoadClientKey(c.clientID, data); err != nil {
			fmt.Fprintln(stderr, "telederm conformance: --key:", err)
			return 2
		}
		if opts.Token == "" {
			if opts.Token, err = suite.BackendToken(ctx, opts.Client, c.base, opts.ClientKey, c.scope); err != nil {
				fmt.Fprintln(stderr, "telederm conformance: backend services token:", err)
				return 1
			}
		}
	}
	if c.verbose {
		opts.Log = stderr
	}
	// The receiver is the runner's own rest-hook endpoint: the server under
	// test must reach it, so --receiver-url says how when that is not the
	// bound address.
	if c.receiverAddr != "" && c.receiverAddr != "off" {
		ln, err := net.Listen("tcp", c.receiverAddr)
		if err != nil {
			fmt.Fprintln(stderr, "telederm conformance: --receiver-addr:", err)
			return 2
		}
		srv := &http.Server{Handler: suite.NewReceiver(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		opts.ReceiverURL = c.receiverURL
		if opts.ReceiverURL == "" {
			opts.ReceiverURL = "http://" + ln.Addr().String()
		}
	}

	fmt.Fprintf(stdout, "telederm conformance: %d TestScripts against %s\n\n", len(scripts), c.base)
	rep := suite.Run(ctx, opts, scripts)
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "telederm conformance:", err)
		return 2
	}
	if c.report != "" {
		b, err := rep.TestReportJSON()
		if err == nil {
			err = os.WriteFile(c.report, append(b, '\n'), 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "telederm conformance: --report:", err)
			return 2
		}
	}
	if c.junit != "" {
		b, err := rep.JUnitXML()
		if err == nil {
			err = os.WriteFile(c.junit, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "telederm conformance: --junit:", err)
			return 2
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "telederm conformance: interrupted")
		return 1
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

// loadConformanceScripts is the built-in suite (unless --builtin=false)
// followed by each --tests directory.
func loadConformanceScripts(c conformanceConfig) ([]suite.Script, error) {
	var scripts []suite.Script
	if c.builtin {
		b, err := suite.Builtin()
		if err != nil {
			return nil, err
		}
		scripts = append(scripts, b...)
	}
	for _, dir := range c.tests {
		more, err := suite.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("--tests: %w", err)
		}
		scripts = append(scripts, more...)
	}
	return scripts, nil
}

func listConformanceScripts(w io.Writer, scripts []suite.Script, filter *regexp.Regexp) {
	n := 0
	for _, s := range scripts {
		id := s.TestScript.Label()
		var lines []string
		for i, t := range s.TestScript.Test {
			tid := t.Label(i)
			if filter != nil && !filter.MatchString(id+"/"+tid) {
				continue
			}
			lines = append(lines, fmt.Sprintf("  %s/%s\t%s", id, tid, t.Name))
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s (%s)\n%s\n", id, s.File, strings.Join(lines, "\n"))
		n += len(lines)
	}
	fmt.Fprintf(w, "%d tests\n", n)
}
