package suite

import (
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes the terminal summary: one row per test (and a row
// for a setup or teardown that did not pass), then the counts.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCRIPT\tTEST\tRESULT\tDETAIL")
	row := func(script, test string, st Status, detail string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", script, test, statusWord(st), oneLine(detail))
	}
	for _, s := range r.Scripts {
		if s.Setup != nil && s.Setup.Status != Pass {
			row(s.ID, "(setup)", s.Setup.Status, s.Setup.Message)
		}
		for _, t := range s.Tests {
			detail := t.Message
			if t.Status == Pass && len(t.Notes) > 0 {
				detail = strings.Join(t.Notes, "; ")
			}
			row(s.ID, t.ID, t.Status, detail)
		}
		if s.Teardown != nil && s.Teardown.Status != Pass {
			row(s.ID, "(teardown)", s.Teardown.Status, s.Teardown.Message)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s against %s in %s (run %s)\n", r.Counts(), r.Base, r.Duration.Round(time.Millisecond), r.RunID)
	return err
}

// statusWord makes failures stand out in the table.
func statusWord(st Status) string {
	switch st {
	case Fail, Error:
		return "FAIL"
	case Skip:
		return "skip"
	}
	return "pass"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// testReportResult maps a Status to TestReport's action result codes.
func testReportResult(st Status) string {
	switch st {
	case Pass, Fail, Skip, Warning, Error:
		return string(st)
	}
	return "error"
}

// TestReports renders each script's result as an R4 TestReport.
func (r *Report) TestReports() []map[string]any {
	var out []map[string]any
	for i, s := range r.Scripts {
		c := s.Counts()
		result := "pass"
		switch {
		case c.Fail > 0:
			result = "fail"
		case c.Pass == 0:
			result = "pending" // nothing could be judged
		}
		ref := map[string]any{"display": s.Name}
		switch {
		case s.URL != "":
			ref["reference"] = s.URL
		case s.ID != "":
			ref["reference"] = "TestScript/" + s.ID
		}
		if s.Name == "" {
			ref["display"] = s.ID
		}
		tr := map[string]any{
			"resourceType": "TestReport",
			"id":           fmt.Sprintf("%s-%d", r.RunID, i+1),
			"name":         s.ID,
			"status":       "completed",
			"testScript":   ref,
			"result":       result,
			"tester":       "telederm conformance",
			"issued":       s.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			"participant": []any{
				map[string]any{"type": "test-engine", "uri": "https://github.com/telederm/telederm", "display": "telederm conformance"},
				map[string]any{"type": "server", "uri": r.Base},
			},
		}
		if judged := c.Pass + c.Fail; judged > 0 {
			tr["score"] = json.Number(strconv.FormatFloat(float64(c.Pass)*100/float64(judged), 'f', 1, 64))
		}
		if s.Setup != nil && len(s.Setup.Actions) > 0 {
			tr["setup"] = map[string]any{"action": reportActions(s.Setup.Actions, false)}
		}
		var tests []any
		for _, t := range s.Tests {
			if len(t.Actions) == 0 {
				continue
			}
			tt := map[string]any{"name": t.ID, "action": reportActions(t.Actions, false)}
			if t.Description != "" {
				tt["description"] = t.Description
			}
			tests = append(tests, tt)
		}
		if len(tests) > 0 {
			tr["test"] = tests
		}
		if s.Teardown != nil {
			if acts := reportActions(s.Teardown.Actions, true); len(acts) > 0 {
				tr["teardown"] = map[string]any{"action": acts}
			}
		}
		out = append(out, tr)
	}
	return out
}

// reportActions renders action results; a teardown holds operations only.
func reportActions(results []ActionResult, operationsOnly bool) []any {
	var out []any
	for _, ar := range results {
		if operationsOnly && ar.Kind != "operation" {
			continue
		}
		a := map[string]any{"result": testReportResult(ar.Status)}
		if msg := strings.TrimSpace(ar.Label + ": " + ar.Message); msg != ":" {
			a["message"] = msg
		}
		out = append(out, map[string]any{ar.Kind: a})
	}
	return out
}

// TestReportJSON is the run as a FHIR collection Bundle holding one
// TestReport per TestScript (a TestReport reports on exactly one script).
func (r *Report) TestReportJSON() ([]byte, error) {
	var entries []any
	for _, tr := range r.TestReports() {
		entries = append(entries, map[string]any{"fullUrl": "urn:uuid:" + newUUID(), "resource": tr})
	}
	b := map[string]any{
		"resourceType": "Bundle",
		"type":         "collection",
		"timestamp":    r.Started.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
	}
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return json.MarshalIndent(b, "", "  ")
}

func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Time      string    `xml:"time,attr"`
	Failure   *junitMsg `xml:"failure,omitempty"`
	Skipped   *junitMsg `xml:"skipped,omitempty"`
	SystemOut string    `xml:"system-out,omitempty"`
}

type junitMsg struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnitXML renders the run for CI systems: a testsuite per TestScript, a
// testcase per test (and one for a setup or teardown that failed).
func (r *Report) JUnitXML() ([]byte, error) {
	c := r.Counts()
	out := junitSuites{Name: "telederm conformance", Tests: c.Total(), Failures: c.Fail, Skipped: c.Skip, Time: seconds(r.Duration)}
	for _, s := range r.Scripts {
		sc := s.Counts()
		js := junitSuite{
			Name: s.ID, Tests: sc.Total(), Failures: sc.Fail, Skipped: sc.Skip,
			Time: seconds(s.Duration), Timestamp: s.Started.UTC().Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{{"base", r.Base}, {"runId", r.RunID}, {"file", s.File}},
		}
		section := func(name string, sec *SectionResult) {
			if sec != nil && (sec.Status == Fail || sec.Status == Error) {
				js.Cases = append(js.Cases, junitCase{
					Name: name, Classname: s.ID, Time: "0",
					Failure:   &junitMsg{Message: sec.Message, Type: "setup", Text: actionLog(sec.Actions)},
					SystemOut: actionLog(sec.Actions),
				})
			}
		}
		section("(setup)", s.Setup)
		for _, t := range s.Tests {
			jc := junitCase{Name: t.ID, Classname: s.ID, Time: seconds(t.Duration), SystemOut: actionLog(t.Actions)}
			switch t.Status {
			case Fail, Error:
				jc.Failure = &junitMsg{Message: t.Message, Type: "assertion", Text: actionLog(t.Actions)}
			case Skip:
				jc.Skipped = &junitMsg{Message: t.Message}
			}
			js.Cases = append(js.Cases, jc)
		}
		section("(teardown)", s.Teardown)
		out.Suites = append(out.Suites, js)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// actionLog is one line per action: what was sent, what was judged.
func actionLog(results []ActionResult) string {
	var b strings.Builder
	for _, ar := range results {
		fmt.Fprintf(&b, "[%s] %s %s: %s\n", ar.Status, ar.Kind, ar.Label, ar.Message)
	}
	return b.String()
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}
