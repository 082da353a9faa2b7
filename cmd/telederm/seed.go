package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/synth"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

// The region `telederm seed` lays down: the published service's 38
// practices over 17 months.
const (
	seedPractices = 38
	seedMonths    = 17
)

type seedConfig struct {
	referrals int
	data      string
	baseURL   string
	seed      uint64
	end       time.Time // the region's history ends at this instant (exclusive)
}

func parseSeedFlags(args []string, stderr io.Writer, getenv func(string) string, now time.Time) (seedConfig, error) {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c seedConfig
	data := getenv("TELEDERM_DATA")
	if data == "" {
		data = "./data"
	}
	base := getenv("TELEDERM_BASE_URL")
	if base == "" {
		base = "http://localhost:8080"
	}
	fs.IntVar(&c.referrals, "referrals", 1000, "how many referrals to create")
	fs.StringVar(&c.data, "data", data, "data directory to create the region in (TELEDERM_DATA)")
	fs.StringVar(&c.baseURL, "base-url", base, "base URL the server will be reached at (TELEDERM_BASE_URL)")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed: the same seed and end date give the same region")
	end := fs.String("end", "", "date (YYYY-MM-DD) the history ends on, exclusive; default today")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.referrals < 1 {
		return c, fmt.Errorf("--referrals must be at least 1, not %d", c.referrals)
	}
	c.end = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if *end != "" {
		t, err := time.Parse("2006-01-02", *end)
		if err != nil {
			return c, fmt.Errorf("--end must be a date (YYYY-MM-DD), not %q", *end)
		}
		c.end = t
	}
	if c.end.After(now) {
		return c, fmt.Errorf("--end %s is in the future: the server stamps writes with the history's times", c.end.Format("2006-01-02"))
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")
	return c, nil
}

func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parseSeedFlags(args, stderr, getenv, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "telederm seed:", err)
		return 2
	}
	sum, err := seedRegion(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "telederm seed:", err)
		return 1
	}
	fmt.Fprintln(stdout, sum)
	return 0
}

// seedSummary is what seeding made.
type seedSummary struct {
	Referrals, Answered int
	Resent              int // refused for small photos, sent again with usable ones
	Outcomes            map[string]int
	From, To            time.Time
	Elapsed             time.Duration
}

func (s seedSummary) String() string {
	var mix []string
	for _, k := range slices.Sorted(mapKeys(s.Outcomes)) {
		mix = append(mix, fmt.Sprintf("%s %d", k, s.Outcomes[k]))
	}
	return fmt.Sprintf("seeded %d referrals from %d practices, %s to %s (%d resent after a refusal for small photos); %d answered (%s) in %s",
		s.Referrals, seedPractices, s.From.Format("2006-01-02"), s.To.Format("2006-01-02"), s.Resent, s.Answered, strings.Join(mix, ", "), s.Elapsed.Round(time.Millisecond))
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// seedEvent is a submission or an answer, at its time.
type seedEvent struct {
	at       time.Time
	referral int  // index into the plan
	answer   bool // else the submission
}

// seedPlan is one referral's place in the history.
type seedPlan struct {
	practice, gp int
	submitted    time.Time
	answered     time.Time // zero: still open at the end
	consultant   int
	// filled in as the history is written
	info              synth.Referral
	srRef, patientRef string
}

// seedRegion writes the region through the server's own handler (so every
// write goes through the workflow), with the clock set to each event's
// time in order.
func seedRegion(ctx context.Context, cfg seedConfig, progress io.Writer) (seedSummary, error) {
	started := time.Now()
	cal := workdays.Default()
	from := cfg.end.AddDate(0, -seedMonths, 0)
	var clock atomic.Int64
	clock.Store(from.AddDate(0, 0, -1).Add(9 * time.Hour).UnixNano())
	srv, err := server.Open(ctx, server.Config{
		DataDir: cfg.data, BaseURL: cfg.baseURL, Auth: "off",
		Logger: slog.New(slog.NewTextHandler(progress, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:    func() time.Time { return time.Unix(0, clock.Load()) },
	})
	if err != nil {
		return seedSummary{}, err
	}
	defer srv.Close()
	c := &seedClient{h: srv.Handler(), ctx: ctx}
	if n, err := c.count("ServiceRequest"); err != nil {
		return seedSummary{}, err
	} else if n > 0 {
		return seedSummary{}, fmt.Errorf("%s already holds %d ServiceRequests: seed an empty data directory", cfg.data, n)
	}

	g := synth.New(cfg.seed)
	region := g.Region(seedPractices)
	ids, err := c.transaction(region.Bundle)
	if err != nil {
		return seedSummary{}, fmt.Errorf("region: %w", err)
	}
	plans, events := planHistory(cfg, cal, from, region)
	sum := seedSummary{Referrals: len(plans), Outcomes: map[string]int{}, From: from, To: cfg.end}
	p := newProgress(progress, len(plans))
	for _, ev := range events {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		clock.Store(ev.at.UnixNano())
		pl := &plans[ev.referral]
		if !ev.answer {
			pr := region.Practices[pl.practice]
			gp := pr.GPs[pl.gp]
			pl.info = g.ReferralFrom(synth.Referrer{
				Organization: ids[pr.Organization], Practitioner: ids[gp.Practitioner], Role: ids[gp.Role], Service: ids[region.Service],
			}, ev.at)
			created, err := c.transaction(pl.info.Bundle)
			var refused *refusedError
			if errors.As(err, &refused) && pl.info.SmallPhotos {
				// The workflow requires photos of 800x600 or more: the GP
				// sends the referral again at once with usable ones.
				sum.Resent++
				created, err = c.transaction(pl.info.Retake)
			}
			if err != nil {
				return sum, fmt.Errorf("referral %d: %w", ev.referral+1, err)
			}
			pl.srRef, pl.patientRef = created["ServiceRequest"], created["Patient"]
			p.submitted()
			continue
		}
		suspected, err := c.triagedSuspected(pl.srRef, pl.info.Suspected)
		if err != nil {
			return sum, err
		}
		outcome := g.AdviceOutcome(suspected)
		body := g.AdviceReport(synth.Advice{Referral: pl.srRef, Patient: pl.patientRef,
			Consultant: ids[region.Consultants[pl.consultant]], Issued: ev.at, Outcome: outcome})
		if _, err := c.do(http.MethodPost, "/DiagnosticReport", body, http.StatusCreated); err != nil {
			return sum, fmt.Errorf("advice on referral %d: %w", ev.referral+1, err)
		}
		sum.Answered++
		sum.Outcomes[outcome]++
		p.answered()
	}
	p.done()
	sum.Elapsed = time.Since(started)
	return sum, nil
}

// planHistory places the referrals: submissions on working days over
// [from, cfg.end) in surgery hours (London), practices weighted by list
// size, and the answer the drawn number of working days later; answers
// due at or after the end stay open. Events come in time order,
// submissions first on a tie, so the clock only moves forward.
func planHistory(cfg seedConfig, cal *workdays.Calendar, from time.Time, region synth.Region) ([]seedPlan, []seedEvent) {
	rng := rand.New(rand.NewPCG(cfg.seed, 0x5eed))
	g := synth.New(cfg.seed ^ 0xa115)
	loc := cal.Location()
	weights := make([]int, len(region.Practices))
	total := 0
	for i := range weights {
		weights[i] = 1 + rng.IntN(6) // list sizes differ up to six-fold
		total += weights[i]
	}
	var days []time.Time
	for d := from; d.Before(cfg.end); d = d.AddDate(0, 0, 1) {
		if cal.IsWorkingDay(d.Add(12 * time.Hour)) {
			days = append(days, d)
		}
	}
	plans := make([]seedPlan, cfg.referrals)
	var events []seedEvent
	for i := range plans {
		pl := &plans[i]
		r := rng.IntN(total)
		for pl.practice = 0; r >= weights[pl.practice]; pl.practice++ {
			r -= weights[pl.practice]
		}
		pl.gp = rng.IntN(len(region.Practices[pl.practice].GPs))
		pl.consultant = rng.IntN(len(region.Consultants))
		d := days[rng.IntN(len(days))]
		pl.submitted = time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, loc).Add(time.Duration(rng.IntN(10*60+30)) * time.Minute)
		pl.answered = answerTime(cal, rng, pl.submitted, g.AnswerWorkingDays())
		events = append(events, seedEvent{at: pl.submitted, referral: i})
		if pl.answered.Before(cfg.end) {
			events = append(events, seedEvent{at: pl.answered, referral: i, answer: true})
		}
	}
	slices.SortStableFunc(events, func(a, b seedEvent) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if a.answer != b.answer {
			if a.answer {
				return 1
			}
			return -1
		}
		return a.referral - b.referral
	})
	return plans, events
}

// answerTime is when a consultant answers k working days after the day
// of submitted: the same day a little later, else in clinic hours
// (08:30-17:30 London) on the k-th working day after.
func answerTime(cal *workdays.Calendar, rng *rand.Rand, submitted time.Time, k int) time.Time {
	if k == 0 {
		return submitted.Add(time.Duration(20+rng.IntN(4*60)) * time.Minute)
	}
	loc := cal.Location()
	d := submitted.In(loc)
	for n := 0; n < k; {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 12, 0, 0, 0, loc)
		if cal.IsWorkingDay(d) {
			n++
		}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 8, 30, 0, 0, loc).Add(time.Duration(rng.IntN(9*60)) * time.Minute)
}

// seedClient drives the server's handler in-process.
type seedClient struct {
	h   http.Handler
	ctx context.Context
}

// do sends one request and returns the body when the status is want.
func (c *seedClient) do(method, path string, body []byte, want int) ([]byte, error) {
	req := httptest.NewRequestWithContext(c.ctx, method, path, bytes.NewReader(body))
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	if rec.Code != want {
		err := fmt.Errorf("%s %s: status %d: %s", method, strings.SplitN(path, "?", 2)[0], rec.Code, outcomeText(rec.Body.Bytes()))
		if rec.Code == http.StatusUnprocessableEntity {
			return nil, &refusedError{err}
		}
		return nil, err
	}
	return rec.Body.Bytes(), nil
}

// refusedError is a 422: the server (its profiles or the workflow's
// triage) refused what was sent.
type refusedError struct{ error }

func (e *refusedError) Unwrap() error { return e.error }

// outcomeText is the diagnostics of an OperationOutcome (never resource
// content, which could be patient data).
func outcomeText(body []byte) string {
	var o struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code        string   `json:"code"`
			Diagnostics string   `json:"diagnostics"`
			Expression  []string `json:"expression"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &o) != nil || o.ResourceType != "OperationOutcome" {
		return "(no OperationOutcome)"
	}
	var parts []string
	for _, i := range o.Issue {
		parts = append(parts, strings.TrimSpace(i.Code+" "+i.Diagnostics+" "+strings.Join(i.Expression, ",")))
	}
	return strings.Join(parts, "; ")
}

// transaction posts a transaction Bundle and maps each entry's fullUrl to
// the Type/id the server gave it; the map also holds the first Type/id of
// each type under the type's name.
func (c *seedClient) transaction(bundle []byte) (map[string]string, error) {
	resp, err := c.do(http.MethodPost, "/", bundle, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var req, res struct {
		Entry []struct {
			FullURL  string `json:"fullUrl"`
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &req); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(resp, &res); err != nil || len(res.Entry) != len(req.Entry) {
		return nil, fmt.Errorf("transaction response has %d entries for %d (%v)", len(res.Entry), len(req.Entry), err)
	}
	ids := map[string]string{}
	for i, e := range res.Entry {
		ref := e.Response.Location
		if j := strings.Index(ref, "/_history/"); j >= 0 {
			ref = ref[:j]
		}
		ref = lastTwo(ref)
		ids[req.Entry[i].FullURL] = ref
		typ, _, _ := strings.Cut(ref, "/")
		if _, ok := ids[typ]; !ok {
			ids[typ] = ref
		}
	}
	return ids, nil
}

// lastTwo is Type/id of a relative or absolute reference.
func lastTwo(ref string) string {
	parts := strings.Split(strings.Trim(ref, "/"), "/")
	if len(parts) < 2 {
		return ref
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

// count is how many resources of typ are stored.
func (c *seedClient) count(typ string) (int, error) {
	body, err := c.do(http.MethodGet, "/"+typ+"?_summary=count", nil, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var b struct {
		Total int `json:"total"`
	}
	return b.Total, json.Unmarshal(body, &b)
}

// triagedSuspected reads the referral as stored and reports whether the
// server's triage put it on the suspected-cancer pathway; without a
// triage result (no workflow) it is the generator's own judgement.
func (c *seedClient) triagedSuspected(srRef string, fallback bool) (bool, error) {
	body, err := c.do(http.MethodGet, "/"+srRef, nil, http.StatusOK)
	if err != nil {
		return false, err
	}
	var sr struct {
		Extension []struct {
			URL       string `json:"url"`
			Extension []struct {
				URL         string `json:"url"`
				ValueCoding struct {
					Code string `json:"code"`
				} `json:"valueCoding"`
			} `json:"extension"`
		} `json:"extension"`
	}
	if err := json.Unmarshal(body, &sr); err != nil {
		return false, err
	}
	for _, e := range sr.Extension {
		if e.URL != synth.ExtTriageResult {
			continue
		}
		for _, x := range e.Extension {
			if x.URL == "pathway" {
				return x.ValueCoding.Code == "suspected-cancer", nil
			}
		}
	}
	return fallback, nil
}

// seedProgress reports on stderr every 5% or 2 seconds.
type seedProgress struct {
	w                 io.Writer
	total             int
	nSubmitted, nDone int
	lastPct           int
	lastAt, start     time.Time
}

func newProgress(w io.Writer, total int) *seedProgress {
	now := time.Now()
	return &seedProgress{w: w, total: total, lastAt: now, start: now}
}

func (p *seedProgress) submitted() { p.nSubmitted++; p.maybe() }
func (p *seedProgress) answered()  { p.nDone++; p.maybe() }

func (p *seedProgress) maybe() {
	pct := 100 * p.nSubmitted / p.total
	if pct/5 > p.lastPct/5 || time.Since(p.lastAt) >= 2*time.Second {
		p.lastPct, p.lastAt = pct, time.Now()
		fmt.Fprintf(p.w, "seed: %d/%d referrals submitted (%d%%), %d answered, %s\n", p.nSubmitted, p.total, pct, p.nDone, time.Since(p.start).Round(time.Second))
	}
}

func (p *seedProgress) done() {
	fmt.Fprintf(p.w, "seed: %d/%d referrals submitted, %d answered, done in %s\n", p.nSubmitted, p.total, p.nDone, time.Since(p.start).Round(time.Millisecond))
}
