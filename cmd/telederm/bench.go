package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/telederm/telederm/internal/loadgen"
)

// benchConfig is everything bench reads from flags and the environment.
type benchConfig struct {
	run              loadgen.Config
	spawn, standard  bool
	jsonPath, mdPath string
}

const benchUsage = `usage: telederm bench (--base URL | --spawn) [flags]

Runs request mixes (scenarios) from concurrent clients against a FHIR R4
server and reports throughput, latency percentiles and errors per scenario.
Scenarios: ingest (transaction Bundles), read (by id), search (token,
string, date, chain, include), mixed (a GP-surgery day). Read, search and
mixed need data: --load N ingests about N resources first, else ids are
found by searching the server.

flags:
`

// parseBenchFlags reads the flags; --standard fills in the load and the
// ceiling of the standard run (loadgen.Standard) for flags not given.
func parseBenchFlags(args []string, stderr io.Writer, getenv func(string) string) (benchConfig, error) {
	std := loadgen.Standard()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	var c benchConfig
	fs.StringVar(&c.run.BaseURL, "base", getenv("TELEDERM_BASE_URL"), "FHIR base URL of the server under test (TELEDERM_BASE_URL)")
	fs.BoolVar(&c.spawn, "spawn", false, "start a fresh telederm serve on a temporary data directory and run against it")
	fs.BoolVar(&c.standard, "standard", false, fmt.Sprintf("the standard run of BENCHMARKS.md: --load %d --ceiling unless given", std.Load))
	fs.IntVar(&c.run.Clients, "clients", std.Clients, "concurrent clients, each with one request in flight")
	fs.DurationVar(&c.run.Duration, "duration", std.Duration, "measured time per scenario")
	fs.DurationVar(&c.run.Warmup, "warmup", std.Warmup, "unmeasured time before each scenario")
	fs.Uint64Var(&c.run.Seed, "seed", std.Seed, "seed of the synthetic data and of every client's request sequence")
	scenarios := fs.String("scenario", strings.Join(std.Scenarios, ","), "scenarios to run, in order, comma-separated: "+strings.Join(loadgen.Scenarios(), ","))
	fs.StringVar(&c.run.Token, "token", getenv("TELEDERM_TOKEN"), "bearer token sent as Authorization: Bearer (TELEDERM_TOKEN)")
	fs.IntVar(&c.run.Load, "load", 0, "ingest about this many resources first and use their ids; 0 finds ids by searching")
	fs.BoolVar(&c.run.Ceiling, "ceiling", false, "also run each scenario against an in-process net/http server replaying the real responses")
	fs.StringVar(&c.jsonPath, "json", "", "write the report as JSON to this file")
	fs.StringVar(&c.mdPath, "markdown", "", "write the report as BENCHMARKS.md (machine, commands, results, targets) to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if c.standard {
		if !given["load"] {
			c.run.Load = std.Load
		}
		if !given["ceiling"] {
			c.run.Ceiling = std.Ceiling
		}
	}
	c.run.Scenarios = nil
	for _, s := range strings.Split(*scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.run.Scenarios = append(c.run.Scenarios, s)
		}
	}
	check := c.run
	switch {
	case c.spawn && given["base"]:
		return c, errors.New("--base and --spawn exclude each other")
	case c.spawn:
		check.BaseURL = "http://127.0.0.1" // the spawned server's, known once it runs
	case c.run.BaseURL == "":
		return c, errors.New("give the server's base URL with --base (or TELEDERM_BASE_URL), or --spawn")
	}
	if err := check.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c, err := parseBenchFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "telederm bench:", err)
		return 2
	}
	started, machine := time.Now(), loadgen.DetectMachine()
	commands := []string{"telederm bench " + strings.Join(redactToken(args), " ")}
	if c.spawn {
		srv, err := spawnServer(ctx, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "telederm bench: start the server:", err)
			return 1
		}
		defer srv.stop(stderr)
		c.run.BaseURL = srv.base
		commands = append(commands, "# which is a fresh server:", "telederm serve "+strings.Join(srv.args, " "), "# and, against its base URL:")
	} else {
		commands = append(commands, "# which is, every flag spelt out:")
	}
	commands = append(commands, "telederm bench "+strings.Join(explicitArgs(c.run), " "))

	c.run.Progress = stderr
	rep, err := loadgen.Run(ctx, c.run)
	if err != nil {
		fmt.Fprintln(stderr, "telederm bench:", err)
		return 1
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, "telederm bench:", err)
		return 1
	}
	if c.jsonPath != "" {
		if err := writeFile(c.jsonPath, rep.WriteJSON); err != nil {
			fmt.Fprintln(stderr, "telederm bench:", err)
			return 1
		}
	}
	if c.mdPath != "" {
		info := loadgen.MarkdownInfo{
			Date: started, Machine: machine, Took: time.Since(started),
			Commands: append([]string{"make bench  # go build -o bin/telederm ./cmd/telederm, then bin/telederm bench ... as below"}, commands...),
		}
		err := writeFile(c.mdPath, func(w io.Writer) error { return loadgen.WriteMarkdown(w, rep, info) })
		if err != nil {
			fmt.Fprintln(stderr, "telederm bench:", err)
			return 1
		}
	}
	var failed int64
	for _, s := range rep.Scenarios {
		failed += s.Errors
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "telederm bench: %d requests failed\n", failed)
		return 1
	}
	return 0
}

// explicitArgs is the run as flags, every value spelt out, to repeat it
// against any server.
func explicitArgs(c loadgen.Config) []string {
	args := []string{"--base", c.BaseURL, "--load", fmt.Sprint(c.Load), "--clients", fmt.Sprint(c.Clients),
		"--duration", c.Duration.String(), "--warmup", c.Warmup.String(), "--seed", fmt.Sprint(c.Seed),
		"--scenario", strings.Join(c.Scenarios, ",")}
	if c.Ceiling {
		args = append(args, "--ceiling")
	}
	if c.Token != "" {
		args = append(args, "--token", "REDACTED")
	}
	return args
}

// redactToken keeps a token given on the command line out of the report.
func redactToken(args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		switch {
		case a == "--token" || a == "-token":
			if i+1 < len(out) {
				out[i+1] = "REDACTED"
			}
		case strings.HasPrefix(a, "--token=") || strings.HasPrefix(a, "-token="):
			out[i] = a[:strings.Index(a, "=")+1] + "REDACTED"
		}
	}
	return out
}

// writeFile writes through a temporary file and a rename, so a failed run
// never leaves half a report where the last good one was.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".bench-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// spawned is a telederm serve child process on a temporary data directory.
type spawned struct {
	cmd    *exec.Cmd
	base   string
	args   []string
	dir    string
	log    *tailWriter
	exited chan struct{}
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max { // trim now and then, not on every line
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf[max(0, len(t.buf)-t.max):])
}

// spawnServer starts this binary as `telederm serve` on a free loopback
// port and a fresh data directory, and waits until it answers /readyz. It
// logs every request, as in production; the last of its logs are kept to
// show should it fail.
func spawnServer(ctx context.Context, stderr io.Writer) (*spawned, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "telederm-bench-")
	if err != nil {
		return nil, err
	}
	s := &spawned{dir: dir, exited: make(chan struct{}), log: &tailWriter{max: 16 << 10}}
	s.args = []string{"--addr", "127.0.0.1:0", "--data", dir, "--auth", "off"}
	s.cmd = exec.Command(exe, append([]string{"serve"}, s.args...)...)
	s.cmd.Stderr = s.log
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	fmt.Fprintf(stderr, "spawn: telederm serve %s (pid %d)\n", strings.Join(s.args, " "), s.cmd.Process.Pid)

	baseURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if b, ok := strings.CutPrefix(sc.Text(), "Base URL: "); ok {
				baseURL <- strings.TrimSpace(b)
			}
		}
	}()
	fail := func(err error) (*spawned, error) {
		s.stop(io.Discard)
		return nil, err
	}
	select {
	case s.base = <-baseURL:
	case <-s.exited:
		return fail(fmt.Errorf("the server exited at start:\n%s", s.log))
	case <-time.After(60 * time.Second):
		return fail(errors.New("the server printed no base URL within 60 s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("the server at %s is not ready: %v", s.base, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(stderr, "spawn: serving at %s\n", s.base)
	return s, nil
}

// stop asks the server to shut down (SIGTERM), kills it if it has not
// within 30 s, and removes its data.
func (s *spawned) stop(stderr io.Writer) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(stderr, "spawn: the server did not stop within 30 s; killing it")
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	if err := os.RemoveAll(s.dir); err != nil {
		fmt.Fprintln(stderr, "spawn: remove the data:", err)
	}
}
