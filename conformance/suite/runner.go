package suite

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Options configure a run.
type Options struct {
	// Base is the server's FHIR base URL.
	Base string
	// Client sends the requests; nil uses one with a 60 s timeout.
	Client *http.Client
	// Token, when set, is sent as "Authorization: Bearer <Token>" on
	// requests to Base (never to other hosts, such as the receiver).
	Token string
	// ClientKey, when set, signs SMART backend-services client assertions:
	// it gives ${clientAssertion} and ${forgedClientAssertion} (signed by a
	// key the server does not know) their values, for ${tokenEndpoint}.
	ClientKey *ClientKey
	// Vars give variables their values; they win over a script's own
	// (that is how a variable with only a hint gets one).
	Vars map[string]string
	// RunID is the ${runId} variable that makes identifiers unique per
	// run, so the suite can run again and again on a server that keeps its
	// data; "" generates one.
	RunID string
	// ReceiverURL is the public URL of the runner's rest-hook receiver
	// (${receiverUrl}); "" skips the steps that need it.
	ReceiverURL string
	// Filter, when set, runs only the tests whose "scriptId/testId" it
	// matches.
	Filter *regexp.Regexp
	// Log, when set, gets one line per request sent.
	Log io.Writer
}

// runner is the state shared by the scripts of one run.
type runner struct {
	opts   Options
	client *http.Client
	base   string
	runID  string

	capability map[string]any // the server's CapabilityStatement, read once
	capErr     error
	capRead    bool
}

// Run executes scripts against opts.Base in order and reports every test.
// It never stops early on a failure; ctx ends it between actions.
func Run(ctx context.Context, opts Options, scripts []Script) *Report {
	r := &runner{opts: opts, client: opts.Client, base: strings.TrimRight(opts.Base, "/"), runID: opts.RunID}
	if r.client == nil {
		r.client = &http.Client{Timeout: 60 * time.Second}
	}
	if r.runID == "" {
		r.runID = NewRunID()
	}
	rep := &Report{Base: r.base, RunID: r.runID, Started: time.Now()}
	for _, s := range scripts {
		if ctx.Err() != nil {
			break
		}
		if res, ok := r.runScript(ctx, s); ok {
			rep.Scripts = append(rep.Scripts, res)
		}
	}
	rep.Duration = time.Since(rep.Started)
	return rep
}

// NewRunID is a short random id, valid inside FHIR ids and identifiers.
func NewRunID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "r" + string(b)
}

// selected reports whether the filter keeps a test.
func (r *runner) selected(script, test string) bool {
	return r.opts.Filter == nil || r.opts.Filter.MatchString(script+"/"+test)
}

// scriptRun is the state of one TestScript being run.
type scriptRun struct {
	r        *runner
	ts       *TestScript
	loader   FixtureLoader
	fixtures map[string]*fixture
	vars     map[string]Variable
	last     *exchange // the last operation's request and response
}

// fixture is a TestScript fixture: static content, or a request or
// response kept under requestId/responseId.
type fixture struct {
	id      string
	body    map[string]any // static content decoded
	missing string         // why static content is not loaded
	ex      *exchange      // for requestId and responseId fixtures
	request bool           // ex is kept for its request side
	// serverRef is "Type/id" of the resource created on the server from
	// this fixture (create, update, autocreate), so targetId can find it.
	serverRef string
}

func (r *runner) runScript(ctx context.Context, s Script) (res ScriptResult, ok bool) {
	ts := s.TestScript
	res = ScriptResult{ID: ts.Label(), Name: ts.Name, URL: ts.URL, File: s.File, Started: time.Now()}
	if ts.Title != "" {
		res.Name = ts.Title
	}
	var tests []int
	for i, t := range ts.Test {
		if r.selected(res.ID, t.Label(i)) {
			tests = append(tests, i)
		}
	}
	if len(tests) == 0 {
		return res, false
	}
	defer func() { res.Duration = time.Since(res.Started) }()

	sr := &scriptRun{r: r, ts: ts, loader: s.Fixtures, fixtures: map[string]*fixture{}, vars: map[string]Variable{}}
	for _, v := range ts.Variable {
		sr.vars[v.Name] = v
	}
	sr.loadFixtures()

	// A script-wide requirement skips everything, setup included, without
	// sending a request beyond /metadata.
	if ok, reason := r.meets(ctx, ts.Extension); !ok {
		for _, i := range tests {
			res.Tests = append(res.Tests, skippedTest(ts.Test[i], i, reason))
		}
		return res, true
	}

	blocked := ""
	if acts := sr.autocreate(ctx); ts.Setup != nil || len(acts) > 0 {
		var actions []Action
		if ts.Setup != nil {
			actions = ts.Setup.Action
		}
		results := append(acts, sr.runActions(ctx, actions, true)...)
		st, msg, _ := summarize(results)
		if st == Skip && !opSkipped(results) {
			st, msg = Pass, "" // only assertions were skipped: the setup still did its work
		}
		res.Setup = &SectionResult{Status: st, Message: msg, Actions: results}
		switch st {
		case Fail, Error:
			blocked = "setup failed: " + msg
		case Skip:
			blocked = "setup skipped: " + msg
		}
	}
	for _, i := range tests {
		t := ts.Test[i]
		if blocked != "" {
			res.Tests = append(res.Tests, skippedTest(t, i, blocked))
			continue
		}
		if ok, reason := r.meets(ctx, t.Extension); !ok {
			res.Tests = append(res.Tests, skippedTest(t, i, reason))
			continue
		}
		start := time.Now()
		results := sr.runActions(ctx, t.Action, true)
		st, msg, notes := summarize(results)
		res.Tests = append(res.Tests, TestResult{
			ID: t.Label(i), Name: t.Name, Description: t.Description,
			Status: st, Message: msg, Notes: notes, Actions: results, Duration: time.Since(start),
		})
	}
	var teardown []ActionResult
	if ts.Teardown != nil {
		teardown = sr.runActions(ctx, ts.Teardown.Action, false)
	}
	teardown = append(teardown, sr.autodelete(ctx)...)
	if len(teardown) > 0 {
		st, msg, _ := summarize(teardown)
		if st == Skip {
			st = Pass // a teardown that could not run leaves data behind, it does not fail a test
		}
		res.Teardown = &SectionResult{Status: st, Message: msg, Actions: teardown}
	}
	return res, true
}

// skippedTest is a test none of whose actions ran.
func skippedTest(t Test, i int, reason string) TestResult {
	tr := TestResult{ID: t.Label(i), Name: t.Name, Description: t.Description, Status: Skip, Message: reason}
	for _, a := range t.Action {
		tr.Actions = append(tr.Actions, ActionResult{Kind: a.kind(), Label: a.describe(), Status: Skip, Message: reason})
	}
	return tr
}

func (a Action) kind() string {
	if a.Operation != nil {
		return "operation"
	}
	return "assert"
}

// runActions runs actions in order. With stopOnFail, the first failure
// (or an operation that cannot be attempted) skips the rest: later
// assertions would only judge a response that is not the one they expect.
// Teardown runs everything it can.
func (sr *scriptRun) runActions(ctx context.Context, actions []Action, stopOnFail bool) []ActionResult {
	var out []ActionResult
	blocked := ""
	for _, a := range actions {
		ar := ActionResult{Kind: a.kind(), Label: a.describe()}
		switch {
		case ctx.Err() != nil:
			ar.Status, ar.Message = Error, "run cancelled: "+ctx.Err().Error()
		case blocked != "":
			ar.Status, ar.Message = Skip, "not run: "+blocked
		case a.Operation != nil:
			ar.Status, ar.Message = sr.operation(ctx, a.Operation)
			if stopOnFail && ar.Status == Skip {
				blocked = ar.Message
			}
		default:
			ar.Status, ar.Message = sr.assert(a.Assert)
			if ar.Status == Fail && a.Assert.WarningOnly {
				ar.Status = Warning
			}
		}
		if stopOnFail && (ar.Status == Fail || ar.Status == Error) && blocked == "" {
			blocked = "an earlier step failed"
		}
		out = append(out, ar)
	}
	return out
}

// summarize turns action results into a test result: a failure or error
// fails it, an operation that could not be attempted skips it, and a test
// whose every assertion was skipped is skipped; otherwise it passes, with
// the skipped and warned assertions as notes.
func summarize(results []ActionResult) (Status, string, []string) {
	var failed, skipped string
	var notes []string
	passedAsserts, skippedAsserts := 0, 0
	for _, ar := range results {
		msg := ar.Label + ": " + ar.Message
		switch {
		case ar.Status == Fail || ar.Status == Error:
			if failed == "" {
				failed = msg
			}
		case ar.Status == Skip && ar.Kind == "operation":
			if skipped == "" {
				skipped = ar.Message
			}
		case ar.Status == Skip:
			skippedAsserts++
			if !strings.HasPrefix(ar.Message, "not run: ") && !slices.Contains(notes, "skipped: "+ar.Message) {
				notes = append(notes, "skipped: "+ar.Message)
			}
		case ar.Status == Warning:
			notes = append(notes, "warning: "+msg)
		case ar.Kind == "assert":
			passedAsserts++
		}
	}
	switch {
	case failed != "":
		return Fail, failed, notes
	case skipped != "":
		return Skip, skipped, notes
	case passedAsserts == 0 && skippedAsserts > 0:
		return Skip, strings.TrimPrefix(notes[0], "skipped: "), notes
	}
	return Pass, "", notes
}

func opSkipped(results []ActionResult) bool {
	for _, ar := range results {
		if ar.Kind == "operation" && ar.Status == Skip {
			return true
		}
	}
	return false
}

// meets checks RequiresExtension requirements against the server's
// CapabilityStatement.
func (r *runner) meets(ctx context.Context, exts []Extension) (bool, string) {
	reqs, _ := requirements(exts) // checked when the script was parsed
	if len(reqs) == 0 {
		return true, ""
	}
	cs, err := r.capabilityStatement(ctx)
	if err != nil {
		return false, "cannot read the server's CapabilityStatement: " + err.Error()
	}
	for _, q := range reqs {
		v, err := evalExpr(q.expression, cs)
		if err != nil {
			return false, fmt.Sprintf("requirement %q: %v", q.expression, err)
		}
		if !truthy(v) {
			return false, q.reason
		}
	}
	return true, ""
}

func (r *runner) capabilityStatement(ctx context.Context) (map[string]any, error) {
	if r.capRead {
		return r.capability, r.capErr
	}
	r.capRead = true
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/metadata", nil)
	if err != nil {
		r.capErr = err
		return nil, err
	}
	req.Header.Set("Accept", fhirJSON)
	if r.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.opts.Token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.capErr = err
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		r.capErr = err
		return nil, err
	}
	m := decodeJSON(b)
	if resp.StatusCode != http.StatusOK || m == nil || m["resourceType"] != "CapabilityStatement" {
		r.capErr = fmt.Errorf("GET /metadata answered %d without a CapabilityStatement", resp.StatusCode)
		return nil, r.capErr
	}
	r.capability = m
	return m, nil
}

// loadFixtures reads each fixture's static content: a contained resource
// ("#id") or what the script's loader finds.
func (sr *scriptRun) loadFixtures() {
	contained := map[string]map[string]any{}
	for _, raw := range sr.ts.Contained {
		if m := decodeJSON(raw); m != nil {
			if id, _ := m["id"].(string); id != "" {
				contained[id] = m
			}
		}
	}
	for _, f := range sr.ts.Fixture {
		fx := &fixture{id: f.ID}
		sr.fixtures[f.ID] = fx
		if f.Resource == nil || f.Resource.Reference == "" {
			fx.missing = fmt.Sprintf("fixture %s has no resource reference", f.ID)
			continue
		}
		ref := f.Resource.Reference
		if id, ok := strings.CutPrefix(ref, "#"); ok {
			if m, ok := contained[id]; ok {
				fx.body = m
			} else {
				fx.missing = fmt.Sprintf("fixture reference %s: no contained resource with that id", ref)
			}
			continue
		}
		if sr.loader == nil {
			fx.missing = fmt.Sprintf("fixture reference %s: not loaded", ref)
			continue
		}
		b, err := sr.loader(ref)
		if err != nil {
			fx.missing = fmt.Sprintf("fixture reference %s: not loaded (%v)", ref, err)
			continue
		}
		if fx.body = decodeJSON(b); fx.body == nil {
			fx.missing = fmt.Sprintf("fixture reference %s: not a JSON resource", ref)
		}
	}
}

// autocreate creates the fixtures marked autocreate, before setup.
func (sr *scriptRun) autocreate(ctx context.Context) []ActionResult {
	var out []ActionResult
	for _, f := range sr.ts.Fixture {
		if !f.Autocreate {
			continue
		}
		op := &Operation{Type: &Coding{Code: "create"}, SourceID: f.ID}
		st, msg := sr.operation(ctx, op)
		ar := ActionResult{Kind: "operation", Label: "autocreate " + f.ID, Status: st, Message: msg}
		if st == Pass && (sr.last.status < 200 || sr.last.status > 299) {
			ar.Status, ar.Message = Fail, msg+": expected a 2xx status"
		}
		out = append(out, ar)
	}
	return out
}

// autodelete deletes the fixtures marked autodelete, after teardown.
func (sr *scriptRun) autodelete(ctx context.Context) []ActionResult {
	var out []ActionResult
	for _, f := range sr.ts.Fixture {
		if !f.Autodelete {
			continue
		}
		if fx := sr.fixtures[f.ID]; fx == nil || fx.serverRef == "" {
			out = append(out, ActionResult{Kind: "operation", Label: "autodelete " + f.ID, Status: Skip, Message: "not created on the server, nothing to delete"})
			continue
		}
		op := &Operation{Type: &Coding{Code: "delete"}, TargetID: f.ID}
		st, msg := sr.operation(ctx, op)
		out = append(out, ActionResult{Kind: "operation", Label: "autodelete " + f.ID, Status: st, Message: msg})
	}
	return out
}

// stepError is why a step could not run: Skip when something it needs is
// missing (a fixture, a variable's value), Fail when the server's
// earlier answer lacks what the script reads from it.
type stepError struct {
	status Status
	msg    string
}

func (e *stepError) Error() string { return e.msg }

func skipf(format string, a ...any) error {
	return &stepError{Skip, fmt.Sprintf(format, a...)}
}

func failf(format string, a ...any) error {
	return &stepError{Fail, fmt.Sprintf(format, a...)}
}

// statusOf is the Status an error stands for.
func statusOf(err error) Status {
	var se *stepError
	if errors.As(err, &se) {
		return se.status
	}
	return Error
}

// decodeJSON decodes a JSON object keeping numbers as their text (FHIR
// decimals keep their precision), or returns nil.
func decodeJSON(b []byte) map[string]any {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil
	}
	return m
}
