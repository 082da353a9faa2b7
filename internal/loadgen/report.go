package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Report is the result of a run; its JSON form is the --json file.
type Report struct {
	Tool      string           `json:"tool"`
	Started   time.Time        `json:"started"`
	BaseURL   string           `json:"base_url"`
	Config    ReportConfig     `json:"config"`
	Load      *LoadStats       `json:"load,omitempty"` // when --load ran
	Data      DataStats        `json:"data"`
	Scenarios []ScenarioResult `json:"scenarios"`
	Targets   []Target         `json:"targets"`
}

// ReportConfig is the run's configuration (never the token).
type ReportConfig struct {
	Clients   int      `json:"clients"`
	Duration  string   `json:"duration"`
	Warmup    string   `json:"warmup"`
	Seed      uint64   `json:"seed"`
	Scenarios []string `json:"scenarios"`
	Load      int      `json:"load"`
	Ceiling   bool     `json:"ceiling"`
}

// DataStats counts the ids the read, search and mixed scenarios draw from.
type DataStats struct {
	Patients     int `json:"patients"`
	Referrals    int `json:"referrals"`
	Observations int `json:"observations"`
}

// Stats is the measured part of one scenario or request kind.
type Stats struct {
	Requests        int64   `json:"requests"`
	Errors          int64   `json:"errors"` // non-2xx answers and transport failures
	Seconds         float64 `json:"seconds"`
	RequestsPerSec  float64 `json:"requests_per_sec"`
	ResourcesPerSec float64 `json:"resources_per_sec"` // resources written, by successful requests
	Latency         Latency `json:"latency_ms"`
}

// Latency is in milliseconds; percentiles are nearest-rank, within 1%.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// ScenarioResult is one scenario against the server, with its request
// kinds and, with --ceiling, the same against the ceiling.
type ScenarioResult struct {
	Name string `json:"name"`
	Stats
	ErrorSamples []string       `json:"error_samples"`
	Kinds        []KindResult   `json:"kinds"`
	Ceiling      *CeilingResult `json:"ceiling,omitempty"`
}

// KindResult is one request kind of a scenario.
type KindResult struct {
	Name  string  `json:"name"`
	Share float64 `json:"share"` // of the scenario's requests, by design
	Stats
}

// CeilingResult is the scenario against the replaying ceiling server.
type CeilingResult struct {
	Stats
	// Ratio is the server's requests/s over the ceiling's.
	Ratio        float64  `json:"ratio"`
	ErrorSamples []string `json:"error_samples"`
}

// Target is one of the goals, judged on this run.
type Target struct {
	Name   string  `json:"name"`
	Want   string  `json:"want"`
	Got    string  `json:"got"`
	Value  float64 `json:"value"`  // what Got says, as a number (ratio, resources/s, ms)
	Result string  `json:"result"` // PASS, FAIL, or n/a when the run does not measure it
}

func newReport(cfg *Config) *Report {
	return &Report{
		Tool: "telederm bench", Started: time.Now().UTC().Truncate(time.Second), BaseURL: cfg.BaseURL,
		Config: ReportConfig{
			Clients: cfg.Clients, Duration: cfg.Duration.String(), Warmup: cfg.Warmup.String(), Seed: cfg.Seed,
			Scenarios: cfg.Scenarios, Load: cfg.Load, Ceiling: cfg.Ceiling,
		},
	}
}

func statsOf(k *kindStats, elapsed time.Duration) Stats {
	secs := elapsed.Seconds()
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 } // to the microsecond
	s := Stats{
		Requests: k.requests, Errors: k.errors, Seconds: math.Round(secs*1000) / 1000,
		Latency: Latency{
			P50: ms(k.hist.percentile(50)), P90: ms(k.hist.percentile(90)), P99: ms(k.hist.percentile(99)),
			Max: ms(time.Duration(k.hist.max)), Mean: ms(k.hist.mean()),
		},
	}
	if secs > 0 {
		s.RequestsPerSec = float64(k.requests) / secs
		s.ResourcesPerSec = float64(k.resources) / secs
	}
	return s
}

func scenarioResult(s *scenario, ps *phaseStats) *ScenarioResult {
	var all kindStats
	res := &ScenarioResult{Name: s.name, ErrorSamples: ps.errs}
	if res.ErrorSamples == nil {
		res.ErrorSamples = []string{}
	}
	for i := range ps.kinds {
		k := &ps.kinds[i]
		all.hist.merge(&k.hist)
		all.requests += k.requests
		all.errors += k.errors
		all.resources += k.resources
		res.Kinds = append(res.Kinds, KindResult{
			Name: s.kinds[i].name, Share: float64(s.kinds[i].weight) / float64(s.total), Stats: statsOf(k, ps.elapsed),
		})
	}
	res.Stats = statsOf(&all, ps.elapsed)
	return res
}

// The targets.
const (
	targetReadRatio = 0.40 // read by id, of the HTTP ceiling
	targetIngest    = 3000 // resources/s
	targetSearchP50 = 10   // ms, across the search mix
)

// targets judges the goals. A scenario with failed requests fails
// its target: a fast error is not a result.
func targets(r *Report) []Target {
	find := func(name string) *ScenarioResult {
		for i := range r.Scenarios {
			if r.Scenarios[i].Name == name {
				return &r.Scenarios[i]
			}
		}
		return nil
	}
	judge := func(t Target, s *ScenarioResult, pass bool) Target {
		t.Result = "FAIL"
		if pass && s.Errors == 0 {
			t.Result = "PASS"
		}
		if s.Errors > 0 {
			t.Got += fmt.Sprintf(" (%s errors)", thousands(float64(s.Errors)))
		}
		return t
	}
	var out []Target

	t := Target{Name: "read by id", Want: fmt.Sprintf(">= %.0f%% of the HTTP ceiling", targetReadRatio*100), Result: "n/a", Got: "not run"}
	if s := find(Read); s != nil && s.Ceiling != nil {
		t.Value = s.Ceiling.Ratio
		t.Got = fmt.Sprintf("%.0f%% (%s of %s req/s)", s.Ceiling.Ratio*100, thousands(s.RequestsPerSec), thousands(s.Ceiling.RequestsPerSec))
		t = judge(t, s, s.Ceiling.Ratio >= targetReadRatio)
	} else if s != nil {
		t.Got = "no ceiling (run with --ceiling)"
	}
	out = append(out, t)

	t = Target{Name: "ingest", Want: fmt.Sprintf(">= %s resources/s", thousands(targetIngest)), Result: "n/a", Got: "not run"}
	if s := find(Ingest); s != nil {
		t.Value = s.ResourcesPerSec
		t.Got = thousands(s.ResourcesPerSec) + " resources/s"
		t = judge(t, s, s.ResourcesPerSec >= targetIngest)
	}
	out = append(out, t)

	t = Target{Name: "search p50 across the mix", Want: fmt.Sprintf("< %d ms", targetSearchP50), Result: "n/a", Got: "not run"}
	if s := find(Search); s != nil {
		t.Value = s.Latency.P50
		t.Got = millis(s.Latency.P50) + " ms"
		t = judge(t, s, s.Requests > 0 && s.Latency.P50 < targetSearchP50)
	}
	return append(out, t)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the human report: the run, one table row per scenario
// and per request kind, each scenario against its ceiling in a sentence,
// the failures, and the targets.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "telederm bench against %s: %d clients, %s per scenario after %s warm-up, seed %d\n",
		r.BaseURL, r.Config.Clients, r.Config.Duration, r.Config.Warmup, r.Config.Seed)
	if r.Load != nil {
		fmt.Fprintf(w, "loaded %s resources in %d Bundles in %.1f s (%s resources/s)\n",
			thousands(float64(r.Load.Resources)), r.Load.Bundles, r.Load.Seconds, thousands(r.Load.ResourcesPerSec))
	}
	fmt.Fprintf(w, "data: %s patients, %s referrals, %s observations\n\n",
		thousands(float64(r.Data.Patients)), thousands(float64(r.Data.Referrals)), thousands(float64(r.Data.Observations)))

	rows := [][]string{{"scenario", "requests", "req/s", "resources/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors", "ceiling req/s", "of ceiling"}}
	for _, s := range r.Scenarios {
		ceil, ratio := "-", "-"
		if s.Ceiling != nil {
			ceil, ratio = thousands(s.Ceiling.RequestsPerSec), percent(s.Ceiling.Ratio)
		}
		rows = append(rows, statsRow(s.Name, s.Stats, ceil, ratio))
		for _, k := range s.Kinds {
			rows = append(rows, statsRow(fmt.Sprintf("  %s (%.0f%%)", k.Name, k.Share*100), k.Stats, "", ""))
		}
	}
	if err := writeTable(w, rows, 1); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, s := range r.Scenarios {
		if line := ceilingSentence(&s); line != "" {
			fmt.Fprintln(w, line)
		}
	}
	for _, s := range r.Scenarios {
		if s.Errors > 0 {
			fmt.Fprintf(w, "\n%s: %s of %s requests failed; first failures:\n", s.Name, thousands(float64(s.Errors)), thousands(float64(s.Requests)))
			for _, e := range s.ErrorSamples {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
		if s.Ceiling != nil && s.Ceiling.Errors > 0 {
			fmt.Fprintf(w, "\n%s against the ceiling: %s requests failed; first failures:\n", s.Name, thousands(float64(s.Ceiling.Errors)))
			for _, e := range s.Ceiling.ErrorSamples {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
	}
	fmt.Fprintln(w)
	rows = [][]string{{"target", "want", "got", "result"}}
	for _, t := range r.Targets {
		rows = append(rows, []string{t.Name, t.Want, t.Got, t.Result})
	}
	return writeTable(w, rows, 4)
}

// statsRow is one row of the results table, in its column order.
func statsRow(name string, s Stats, ceil, ratio string) []string {
	res := "-"
	if s.ResourcesPerSec > 0 {
		res = thousands(s.ResourcesPerSec)
	}
	return []string{name, thousands(float64(s.Requests)), thousands(s.RequestsPerSec), res,
		millis(s.Latency.P50), millis(s.Latency.P90), millis(s.Latency.P99), millis(s.Latency.Max),
		thousands(float64(s.Errors)), ceil, ratio}
}

// writeTable writes rows as columns two spaces apart: the first `left`
// columns aligned left (names), the others right (numbers).
func writeTable(w io.Writer, rows [][]string, left int) error {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i > 0 {
				b.WriteString("  ")
			}
			if i < left {
				b.WriteString(cell)
				if i < len(row)-1 {
					b.WriteString(pad)
				}
			} else {
				b.WriteString(pad + cell)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ceilingSentence is "read: 11,200 req/s = 43% of ceiling 26,000 req/s".
func ceilingSentence(s *ScenarioResult) string {
	if s.Ceiling == nil {
		return ""
	}
	rate := thousands(s.RequestsPerSec) + " req/s"
	if s.ResourcesPerSec > 0 {
		rate += " (" + thousands(s.ResourcesPerSec) + " resources/s)"
	}
	return fmt.Sprintf("%s: %s = %s of ceiling %s req/s", s.Name, rate, percent(s.Ceiling.Ratio), thousands(s.Ceiling.RequestsPerSec))
}

// thousands formats a count or rate: one decimal below 100, else a whole
// number with thousands separators (11,200).
func thousands(v float64) string {
	if v != math.Trunc(v) && math.Abs(v) < 100 {
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// millis formats milliseconds with two decimals below 10, one below 1,000.
func millis(ms float64) string {
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1f", ms)
	}
	return thousands(ms)
}

// percent shows a ratio as a percentage, with a decimal below 10%.
func percent(ratio float64) string {
	if ratio < 0.1 {
		return fmt.Sprintf("%.1f%%", ratio*100)
	}
	return fmt.Sprintf("%.0f%%", ratio*100)
}
