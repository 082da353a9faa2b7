// Package loadgen is the load generator behind `telederm bench`: seeded
// synthetic data from internal/synth, request mixes (scenarios) run by
// concurrent clients against any FHIR base URL, latency percentiles, a
// bare net/http "ceiling" server that replays the real server's responses
// from memory, and reports as text, JSON and BENCHMARKS.md.
//
// A run is deterministic given its seed and data: the Bundles loaded, the
// Bundles and advice posted, and the sequence of requests each client sends
// are functions of the seed (and of the ids the server hands back, taken in
// generation order). Timing, of course, is not.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config is one run of the load generator.
type Config struct {
	BaseURL   string        // the FHIR base, without a trailing slash
	Clients   int           // concurrent clients, each with one request in flight
	Duration  time.Duration // measured time per scenario
	Warmup    time.Duration // unmeasured time before it (responses captured for the ceiling)
	Seed      uint64
	Scenarios []string // run in this order
	Token     string   // sent as Authorization: Bearer; empty for none
	Load      int      // ingest about this many resources first; 0 to discover data by searching
	Ceiling   bool     // also run each scenario against the replaying ceiling server
	// Data, when set, is used as is: nothing is loaded or discovered.
	Data *Dataset
	// Progress receives a line as each step starts; nil for silence.
	Progress io.Writer
}

// Validate checks what the flags cannot.
func (c *Config) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("base URL %q is not an http(s) URL", c.BaseURL)
	case c.Clients < 1:
		return fmt.Errorf("clients must be at least 1, not %d", c.Clients)
	case c.Duration <= 0:
		return fmt.Errorf("duration must be positive, not %s", c.Duration)
	case c.Warmup < 0:
		return fmt.Errorf("warm-up must not be negative, not %s", c.Warmup)
	case c.Load < 0:
		return fmt.Errorf("load must not be negative, not %d", c.Load)
	case len(c.Scenarios) == 0:
		return errors.New("no scenario to run")
	}
	return CheckScenarios(c.Scenarios)
}

// CheckScenarios refuses unknown and repeated scenario names.
func CheckScenarios(names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if !slices.Contains(Scenarios(), n) {
			return fmt.Errorf("unknown scenario %q (want some of %s)", n, strings.Join(Scenarios(), ","))
		}
		if seen[n] {
			return fmt.Errorf("scenario %q given twice", n)
		}
		seen[n] = true
	}
	return nil
}

// Standard is the configuration `make bench` runs, the one BENCHMARKS.md
// reports: 100,000 resources, then the read-only scenarios on exactly that
// data, then those that write. BaseURL is left to the caller.
func Standard() Config {
	return Config{
		Clients: 8, Duration: 30 * time.Second, Warmup: 5 * time.Second, Seed: 2026,
		Scenarios: []string{Read, Search, Mixed, Ingest}, Load: 100_000, Ceiling: true,
	}
}

func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// Run loads or discovers the data, then runs each scenario (warm-up, then
// measured; then the same against the ceiling when asked) and reports.
// Failed requests are counted in the report, not returned as errors; an
// error means the run itself could not go on (no data, cancelled).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := newClient(cfg.Clients, cfg.Token)
	defer c.http.CloseIdleConnections()
	rep := newReport(&cfg)

	data := cfg.Data
	switch {
	case data != nil:
	case cfg.Load > 0:
		cfg.progress("load: about %s resources as transaction Bundles (seed %d, %d clients)", thousands(float64(cfg.Load)), cfg.Seed, cfg.Clients)
		d, stats, err := load(ctx, c, cfg.BaseURL, cfg.Load, cfg.Clients, cfg.Seed, cfg.Progress)
		if err != nil {
			return nil, err
		}
		cfg.progress("load: %s resources in %.1f s (%s resources/s)", thousands(float64(stats.Resources)), stats.Seconds, thousands(stats.ResourcesPerSec))
		data, rep.Load = d, &stats
	case slices.ContainsFunc(cfg.Scenarios, func(s string) bool { return s != Ingest }):
		cfg.progress("discover: searching the server for ids")
		d, err := discover(ctx, c, cfg.BaseURL)
		if err != nil {
			return nil, err
		}
		data = d
	default:
		data = &Dataset{}
	}
	rep.Data = DataStats{Patients: len(data.Patients), Referrals: len(data.Referrals), Observations: len(data.Observations)}

	// Build every scenario first, so a missing kind of data fails before
	// minutes of measuring.
	scenarios := make([]*scenario, len(cfg.Scenarios))
	for i, name := range cfg.Scenarios {
		s, err := newScenario(name, data, cfg.Seed)
		if err != nil {
			return nil, err
		}
		scenarios[i] = s
	}

	var ceil *ceiling
	if cfg.Ceiling {
		var err error
		if ceil, err = startCeiling(); err != nil {
			return nil, fmt.Errorf("ceiling server: %w", err)
		}
		defer ceil.close()
	}

	for _, s := range scenarios {
		res, err := runScenario(ctx, &cfg, c, s, ceil)
		if err != nil {
			return nil, err
		}
		rep.Scenarios = append(rep.Scenarios, *res)
	}
	rep.Targets = targets(rep)
	return rep, nil
}

// runScenario is one scenario: warm-up and measured run against the
// server, then, with a ceiling, the same two against it with the same
// request sequence.
func runScenario(ctx context.Context, cfg *Config, c *client, s *scenario, ceil *ceiling) (*ScenarioResult, error) {
	var caps *captures
	if ceil != nil {
		caps = newCaptures(len(s.kinds))
	}
	measure := func(target, base string, caps *captures) (*phaseStats, error) {
		rngs := make([]*rand.Rand, cfg.Clients)
		for w := range rngs {
			rngs[w] = workerRand(cfg.Seed, s.name, w)
		}
		if cfg.Warmup > 0 {
			cfg.progress("%s: warm-up %s against %s", s.name, cfg.Warmup, target)
			if _, err := runPhase(ctx, c, base, s, rngs, cfg.Warmup, caps); err != nil {
				return nil, err
			}
		}
		cfg.progress("%s: measuring %s against %s", s.name, cfg.Duration, target)
		return runPhase(ctx, c, base, s, rngs, cfg.Duration, caps)
	}
	st, err := measure("the server", cfg.BaseURL, caps)
	if err != nil {
		return nil, err
	}
	res := scenarioResult(s, st)
	if ceil != nil {
		if err := fillCaptures(ctx, cfg, c, s, caps); err != nil {
			return nil, err
		}
		ceil.use(caps)
		cst, err := measure("the ceiling", ceil.baseURL(), nil)
		if err != nil {
			return nil, err
		}
		cr := scenarioResult(s, cst)
		res.Ceiling = &CeilingResult{Stats: cr.Stats, ErrorSamples: cr.ErrorSamples}
		if cr.RequestsPerSec > 0 {
			res.Ceiling.Ratio = res.RequestsPerSec / cr.RequestsPerSec
		}
	}
	return res, nil
}

// fillCaptures sends one request of each kind the run happened not to
// send (a rare kind in a short run) to the server, so the ceiling has a
// response of every shape its run will ask for.
func fillCaptures(ctx context.Context, cfg *Config, c *client, s *scenario, caps *captures) error {
	for i, k := range s.kinds {
		if caps.count(i) > 0 {
			continue
		}
		req := k.make(workerRand(cfg.Seed, s.name+"/fill", i))
		req.Kind = i
		var buf bytes.Buffer
		resp, err := c.do(ctx, cfg.BaseURL, req, &buf)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue // the ceiling answers 500 for this shape, as the server failed
		}
		caps.add(req, resp)
	}
	return nil
}

// kindStats is what one worker, or all once merged, saw of one kind.
type kindStats struct {
	hist      histogram
	requests  int64
	errors    int64
	resources int64
}

// phaseStats is one phase of one scenario.
type phaseStats struct {
	kinds   []kindStats
	elapsed time.Duration
	errs    []string // the first few failures
}

// maxErrorSamples is how many failure messages a scenario keeps.
const maxErrorSamples = 5

// runPhase runs len(rngs) workers for d, each sending its stream's
// requests back to back, and merges what they measured. A request under
// way at the deadline finishes and counts; elapsed runs to the last one.
func runPhase(ctx context.Context, c *client, base string, s *scenario, rngs []*rand.Rand, d time.Duration, caps *captures) (*phaseStats, error) {
	ps := &phaseStats{kinds: make([]kindStats, len(s.kinds))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for _, rng := range rngs {
		wg.Go(func() {
			local := make([]kindStats, len(s.kinds))
			var buf bytes.Buffer
			var errs []string
			// Every worker sends at least one request, however late it
			// starts, so every phase has something to report.
			for first := true; ctx.Err() == nil && (first || time.Now().Before(deadline)); first = false {
				req := s.next(rng)
				t0 := time.Now()
				resp, err := c.do(ctx, base, req, &buf)
				lat := time.Since(t0)
				if ctx.Err() != nil {
					break // cancelled under way: not a server failure
				}
				k := &local[req.Kind]
				k.requests++
				k.hist.record(lat)
				switch {
				case err != nil:
					k.errors++
					errs = appendSample(errs, fmt.Sprintf("%s: %v", s.kinds[req.Kind].name, err))
				case resp.status/100 != 2:
					k.errors++
					errs = appendSample(errs, s.kinds[req.Kind].name+": "+statusError(resp))
				default:
					k.resources += int64(req.Resources)
				}
				if err == nil && caps != nil {
					caps.add(req, resp) // failures too: the ceiling replays what the server said
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range local {
				ps.kinds[i].hist.merge(&local[i].hist)
				ps.kinds[i].requests += local[i].requests
				ps.kinds[i].errors += local[i].errors
				ps.kinds[i].resources += local[i].resources
			}
			for _, e := range errs {
				ps.errs = appendSample(ps.errs, e)
			}
		})
	}
	wg.Wait()
	ps.elapsed = time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return ps, nil
}

func appendSample(errs []string, msg string) []string {
	if len(errs) < maxErrorSamples {
		errs = append(errs, msg)
	}
	return errs
}
