package suite

import (
	"fmt"
	"time"
)

// Status is the result of an action, a test or a run, named as in
// TestReport (pass, fail, skip, warning, error).
type Status string

const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Skip    Status = "skip"
	Warning Status = "warning"
	Error   Status = "error"
)

// ActionResult is what happened to one setup, test or teardown action.
type ActionResult struct {
	Kind    string // "operation" or "assert"
	Label   string // the action's label or the start of its description
	Status  Status
	Message string // the request made, or what was expected and what came back
}

// TestResult is one test of a TestScript.
type TestResult struct {
	ID, Name, Description string
	// Status is pass, fail or skip: a test with a failed assertion or an
	// operation that could not be sent fails; one whose operation could
	// not be attempted (a fixture not loaded, a variable without a value,
	// a requirement the server does not meet) is skipped.
	Status Status
	// Message says why a test failed or was skipped.
	Message string
	// Notes are the assertions skipped or only warned about in a test that
	// otherwise passed.
	Notes    []string
	Actions  []ActionResult
	Duration time.Duration
}

// SectionResult is a script's setup or teardown.
type SectionResult struct {
	Status  Status
	Message string
	Actions []ActionResult
}

// ScriptResult is one TestScript run.
type ScriptResult struct {
	ID, Name, URL, File string
	Setup               *SectionResult // nil without setup
	Teardown            *SectionResult // nil without teardown
	Tests               []TestResult
	Started             time.Time
	Duration            time.Duration
}

// Report is one run of the runner.
type Report struct {
	Base     string
	RunID    string
	Started  time.Time
	Duration time.Duration
	Scripts  []ScriptResult
}

// Counts are tests by result. A setup or teardown that failed counts as a
// failure of its own (its tests are then skipped).
type Counts struct{ Pass, Fail, Skip int }

// Total is every test counted.
func (c Counts) Total() int { return c.Pass + c.Fail + c.Skip }

func (c Counts) String() string {
	return fmt.Sprintf("%d tests: %d passed, %d failed, %d skipped", c.Total(), c.Pass, c.Fail, c.Skip)
}

// Counts tallies the report.
func (r *Report) Counts() Counts {
	var c Counts
	for _, s := range r.Scripts {
		c = c.add(s.Counts())
	}
	return c
}

func (c Counts) add(d Counts) Counts {
	return Counts{c.Pass + d.Pass, c.Fail + d.Fail, c.Skip + d.Skip}
}

// Counts tallies one script.
func (s ScriptResult) Counts() Counts {
	var c Counts
	for _, sec := range []*SectionResult{s.Setup, s.Teardown} {
		if sec != nil && (sec.Status == Fail || sec.Status == Error) {
			c.Fail++
		}
	}
	for _, t := range s.Tests {
		switch t.Status {
		case Pass:
			c.Pass++
		case Fail, Error:
			c.Fail++
		default:
			c.Skip++
		}
	}
	return c
}

// Failed reports whether anything failed.
func (r *Report) Failed() bool { return r.Counts().Fail > 0 }

// Test finds a test result by script and test id (nil if absent).
func (r *Report) Test(script, test string) *TestResult {
	for i := range r.Scripts {
		if r.Scripts[i].ID != script {
			continue
		}
		for j := range r.Scripts[i].Tests {
			if r.Scripts[i].Tests[j].ID == test {
				return &r.Scripts[i].Tests[j]
			}
		}
	}
	return nil
}
