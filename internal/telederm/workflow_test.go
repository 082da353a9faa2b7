package telederm

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/rest/resttest"
)

// fakeTriage fast-tracks referrals whose reason mentions melanoma and
// blocks those without a photo, so the workflow can be tested on its own.
func fakeTriage(sr map[string]any, related []map[string]any) Assessment {
	a := Assessment{Priority: "routine", SLADays: 3, Parameters: []byte(`{"resourceType":"Parameters"}`)}
	if strings.Contains(string(encode(sr)), "melanoma") {
		a.Priority, a.SLADays = "asap", 2
	}
	photos := 0
	for _, d := range related {
		if str(d, "resourceType") == "Media" {
			photos++
		}
	}
	if photos == 0 {
		a.Blocking = []fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.CodeRequired, Diagnostics: "no photo", Expression: []string{"ServiceRequest"}}}
	}
	a.Extension = map[string]any{"extension": []any{map[string]any{"url": "pathway", "valueCoding": map[string]any{"code": a.Priority}}}}
	return a
}

// dayCalendar counts every day as a working day.
type dayCalendar struct{}

func (dayCalendar) Due(t time.Time, n int) time.Time {
	return t.UTC().Truncate(24*time.Hour).AddDate(0, 0, n+1)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

const testBase = "http://tdm.test/fhir"

func newWorkflowService(t *testing.T, clk *clock) (*rest.Service, *Workflow) {
	t.Helper()
	params := search.DefaultParams()
	for _, sp := range []string{
		`{"resourceType":"SearchParameter","url":"` + canonical + `SearchParameter/referral-access","code":"referral-access","type":"token","base":["ServiceRequest","Task","DiagnosticReport","Media","Observation"],"expression":"iif(meta.security.where(system = '` + accessSystem + `').exists(), meta.security.where(system = '` + accessSystem + `'), 'open')"}`,
		`{"resourceType":"SearchParameter","url":"` + canonical + `SearchParameter/Task-worklist-rank","code":"worklist-rank","type":"number","base":["Task"],"expression":"Task.extension('` + rankExtension + `').value"}`,
		`{"resourceType":"SearchParameter","url":"` + canonical + `SearchParameter/Task-due","code":"due","type":"date","base":["Task"],"expression":"Task.restriction.period.end"}`,
	} {
		p, err := search.ParamFromJSON([]byte(sp))
		if err != nil {
			t.Fatal(err)
		}
		params = append(params, p)
	}
	w, err := New(Config{BaseURL: testBase, Triage: fakeTriage, Calendar: dayCalendar{}, ServiceOwner: "Organization/derm"})
	if err != nil {
		t.Fatal(err)
	}
	var svc *rest.Service
	svc, _ = resttest.New(t, rest.Config{BaseURL: testBase, Now: clk.now, CommitHook: w,
		AccessPolicy: NewPolicy(func() *rest.Service { return svc }), Registry: search.NewRegistry(params)})
	return svc, w
}

// referralTx is a referral transaction: patient, ServiceRequest (status
// given), and a photo unless photo is false.
func referralTx(srID, status, reason string, photo bool) []byte {
	entries := []string{
		`{"fullUrl":"urn:uuid:p-` + srID + `","resource":{"resourceType":"Patient","name":[{"family":"Test"}]},"request":{"method":"POST","url":"Patient"}}`,
		`{"resource":{"resourceType":"ServiceRequest","id":"` + srID + `","status":"` + status + `","intent":"order",
		  "performerType":{"coding":[{"system":"http://snomed.info/sct","code":"18803008"}]},
		  "reasonCode":[{"text":"` + reason + `"}],"subject":{"reference":"urn:uuid:p-` + srID + `"},"requester":{"reference":"Practitioner/gp1"}},
		  "request":{"method":"PUT","url":"ServiceRequest/` + srID + `"}}`,
	}
	if photo {
		entries = append(entries, `{"resource":{"resourceType":"Media","status":"completed","basedOn":[{"reference":"ServiceRequest/`+srID+`"}],
		  "content":{"contentType":"image/jpeg"}},"request":{"method":"POST","url":"Media"}}`)
	}
	return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`)
}

func mustJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

func read(t *testing.T, svc *rest.Service, typ, id string) map[string]any {
	t.Helper()
	r := svc.Read(t.Context(), typ, id)
	if !r.OK() {
		t.Fatalf("read %s/%s: %d %s", typ, id, r.Status, r.Body)
	}
	return mustJSON(t, r.Body)
}

func stateOfTask(t *testing.T, svc *rest.Service, id string) State {
	t.Helper()
	s, ok := stateOf(read(t, svc, "Task", id))
	if !ok {
		t.Fatalf("Task/%s has no referral state", id)
	}
	return s
}

// checkTaskHistory parses every version of Task/id with the codec, as a
// client's would be: the workflow writes its Tasks without (rest.Commit
// Create and Amend), so this is where they are validated.
func checkTaskHistory(t *testing.T, svc *rest.Service, id string) {
	t.Helper()
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	r := svc.History(t.Context(), "Task", id, nil)
	if !r.OK() {
		t.Fatalf("history of Task/%s: %d %s", id, r.Status, r.Body)
	}
	var bundle struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(r.Body, &bundle); err != nil || len(bundle.Entry) == 0 {
		t.Fatalf("history of Task/%s: %v, %d entries", id, err, len(bundle.Entry))
	}
	for i, e := range bundle.Entry {
		res, o := codec.ParseTree(e.Resource, nil)
		if o != nil {
			t.Errorf("Task/%s, history entry %d, is invalid: %v\n%s", id, i, o.Issue, e.Resource)
			continue
		}
		// Stored as the codec writes it, so no path stores it otherwise.
		if out, err := codec.Marshal(res); err != nil || string(out) != string(e.Resource) {
			t.Errorf("Task/%s, history entry %d, is not as the codec writes it:\n%s\n%s", id, i, e.Resource, out)
		}
	}
}

func advice(srID, outcome string) []byte {
	return []byte(`{"resourceType":"DiagnosticReport","status":"final","code":{"text":"advice"},
	  "basedOn":[{"reference":"ServiceRequest/` + srID + `"}],"conclusion":"see advice",
	  "conclusionCode":[{"coding":[{"system":"` + outcomeSystem + `","code":"` + outcome + `"}]}]}`)
}

func TestReferralLifecycle(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, _ := newWorkflowService(t, clk)
	ctx := t.Context()

	// Submission: triaged, prioritised, Task created with its clock.
	if r := svc.Bundle(ctx, referralTx("r1", "active", "changing lesion, ?melanoma", true), rest.BundleOptions{}); !r.OK() {
		t.Fatalf("submit: %d %s", r.Status, r.Body)
	}
	sr := read(t, svc, "ServiceRequest", "r1")
	if sr["priority"] != "asap" || !strings.Contains(string(encode(sr)), triageExtension) {
		t.Errorf("the submitted referral was not triaged: %s", encode(sr))
	}
	task := read(t, svc, "Task", "r1")
	if task["status"] != "requested" || str(obj(task, "focus"), "reference") != "ServiceRequest/r1" ||
		str(obj(task, "owner"), "reference") != "Organization/derm" || str(obj(task, "for"), "reference") == "" {
		t.Errorf("Task after submission: %s", encode(task))
	}
	if due := str(obj(obj(task, "restriction"), "period"), "end"); due != "2026-03-05T00:00:00Z" {
		t.Errorf("due %q, want 2 days after the submission day (fast track)", due)
	}

	// A submission without a photo is refused whole.
	r := svc.Bundle(ctx, referralTx("r0", "active", "rash", false), rest.BundleOptions{})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "no photo") {
		t.Errorf("blocked submission: %d %s", r.Status, r.Body)
	}
	if r := svc.Read(ctx, "ServiceRequest", "r0"); r.Status != http.StatusNotFound {
		t.Errorf("a refused submission left ServiceRequest/r0: %d", r.Status)
	}

	// The consultant starts the review; managed fields stay the server's.
	task["status"] = "in-progress"
	task["note"] = []any{map[string]any{"text": "looking now"}}
	task["restriction"] = map[string]any{"period": map[string]any{"end": "2030-01-01"}}
	if r := svc.Update(ctx, "Task", "r1", encode(task), ""); !r.OK() {
		t.Fatalf("start review: %d %s", r.Status, r.Body)
	}
	task = read(t, svc, "Task", "r1")
	if s, _ := stateOf(task); s != StateInReview || task["note"] == nil || strings.Contains(string(encode(task)), "2030") {
		t.Errorf("after review start: %s", encode(task))
	}

	// Forbidden moves are 409s naming the rule.
	forbidden := []struct {
		name string
		do   func() rest.Response
		want string
	}{
		{"complete the Task by hand", func() rest.Response {
			tk := read(t, svc, "Task", "r1")
			tk["status"] = "completed"
			return svc.Update(ctx, "Task", "r1", encode(tk), "")
		}, "issuing advice"},
		{"complete the referral by hand", func() rest.Response {
			s := read(t, svc, "ServiceRequest", "r1")
			s["status"] = "completed"
			return svc.Update(ctx, "ServiceRequest", "r1", encode(s), "")
		}, "issuing advice"},
		{"delete the Task", func() rest.Response { return svc.Delete(ctx, "Task", "r1", "") }, "cannot be deleted"},
		{"create a referral's Task", func() rest.Response {
			return svc.Update(ctx, "Task", "r0x", []byte(`{"resourceType":"Task","id":"r0x","status":"requested","intent":"order"}`), "")
		}, ""},
	}
	for _, tt := range forbidden[:3] {
		if r := tt.do(); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), tt.want) {
			t.Errorf("%s: %d %s, want 409 mentioning %q", tt.name, r.Status, r.Body, tt.want)
		}
	}
	if r := forbidden[3].do(); !r.OK() {
		t.Errorf("a Task unrelated to a referral is an ordinary Task: %d %s", r.Status, r.Body)
	}

	// Advice completes the referral and stops the clock.
	clk.t = clk.t.Add(26 * time.Hour)
	if r := svc.Create(ctx, "DiagnosticReport", advice("r1", "advice-only")); !r.OK() {
		t.Fatalf("advice: %d %s", r.Status, r.Body)
	}
	task = read(t, svc, "Task", "r1")
	if s, _ := stateOf(task); s != StateAdvice || task["status"] != "completed" ||
		str(obj(task, "executionPeriod"), "end") != "2026-03-03T12:00:00Z" || len(list(task, "output")) != 1 {
		t.Errorf("Task after advice: %s", encode(task))
	}
	if s := read(t, svc, "ServiceRequest", "r1"); s["status"] != "completed" {
		t.Errorf("referral after advice: %s", s["status"])
	}
	// Advice cannot be issued twice with another outcome, nor on a cancelled one.
	if r := svc.Create(ctx, "DiagnosticReport", advice("r1", "more-information")); r.Status != http.StatusConflict {
		t.Errorf("more-information after advice-only: %d %s", r.Status, r.Body)
	}
	if r := svc.Create(ctx, "DiagnosticReport", advice("r1", "routine-appointment")); !r.OK() || stateOfTask(t, svc, "r1") != StateConverted {
		t.Errorf("advice-issued to converted-to-appointment is allowed: %d %s", r.Status, r.Body)
	}
	if r := svc.Create(ctx, "DiagnosticReport", []byte(strings.Replace(string(advice("r1", "x")), `"conclusionCode":[{"coding":[{"system":"`+outcomeSystem+`","code":"x"}]}]`, `"conclusionCode":[]`, 1))); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("advice without an outcome: %d %s", r.Status, r.Body)
	}
	checkTaskHistory(t, svc, "r1")
}

func TestMoreInformationAndCancel(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, _ := newWorkflowService(t, clk)
	ctx := t.Context()
	if r := svc.Bundle(ctx, referralTx("r2", "draft", "rash", false), rest.BundleOptions{}); !r.OK() {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	if s := stateOfTask(t, svc, "r2"); s != StateDraft {
		t.Errorf("a draft referral's Task is %s", s)
	}
	if r := svc.Create(ctx, "DiagnosticReport", advice("r2", "advice-only")); r.Status != http.StatusConflict {
		t.Errorf("advice on a draft: %d %s", r.Status, r.Body)
	}
	if r := svc.Bundle(ctx, referralTx("r2", "active", "rash", true), rest.BundleOptions{}); !r.OK() {
		t.Fatalf("submit draft: %d %s", r.Status, r.Body)
	}
	if r := svc.Create(ctx, "DiagnosticReport", advice("r2", "more-information")); !r.OK() {
		t.Fatalf("more information: %d %s", r.Status, r.Body)
	}
	if s := stateOfTask(t, svc, "r2"); s != StateMoreInfo || read(t, svc, "ServiceRequest", "r2")["status"] != "on-hold" {
		t.Errorf("after more-information: %s", s)
	}
	// The GP resubmits: the clock starts again.
	clk.t = clk.t.AddDate(0, 0, 5)
	sr := read(t, svc, "ServiceRequest", "r2")
	sr["status"] = "active"
	if r := svc.Update(ctx, "ServiceRequest", "r2", encode(sr), ""); !r.OK() {
		t.Fatalf("resubmit: %d %s", r.Status, r.Body)
	}
	task := read(t, svc, "Task", "r2")
	if s, _ := stateOf(task); s != StateSubmitted || str(obj(task, "executionPeriod"), "start") != "2026-03-07T10:00:00Z" {
		t.Errorf("after resubmission: %s", encode(task))
	}
	// Cancel, then no way back.
	sr = read(t, svc, "ServiceRequest", "r2")
	sr["status"] = "revoked"
	if r := svc.Update(ctx, "ServiceRequest", "r2", encode(sr), ""); !r.OK() || stateOfTask(t, svc, "r2") != StateCancelled {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	sr["status"] = "active"
	if r := svc.Update(ctx, "ServiceRequest", "r2", encode(sr), ""); r.Status != http.StatusConflict {
		t.Errorf("reactivating a cancelled referral: %d %s", r.Status, r.Body)
	}
}

func TestWorklistAndOverdue(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, w := newWorkflowService(t, clk)
	ctx := t.Context()
	for i, reason := range []string{"rash", "?melanoma", "wart"} {
		clk.t = clk.t.Add(time.Hour)
		id := "w" + string(rune('a'+i))
		if r := svc.Bundle(ctx, referralTx(id, "active", reason, true), rest.BundleOptions{}); !r.OK() {
			t.Fatalf("submit %s: %d %s", id, r.Status, r.Body)
		}
	}
	r := svc.Search(ctx, "Task", WorklistQuery(url.Values{}), rest.SearchOptions{})
	if !r.OK() {
		t.Fatalf("worklist: %d %s", r.Status, r.Body)
	}
	var order []string
	included := map[string]int{}
	for _, e := range list(mustJSON(t, r.Body), "entry") {
		em := e.(map[string]any)
		res := obj(em, "resource")
		if str(obj(em, "search"), "mode") == "match" {
			order = append(order, str(res, "id"))
		} else {
			included[str(res, "resourceType")]++
		}
	}
	if strings.Join(order, ",") != "wb,wa,wc" {
		t.Errorf("worklist order %v, want the fast-track wb first, then by due date", order)
	}
	if included["ServiceRequest"] != 3 || included["Patient"] != 3 || included["Media"] != 3 {
		t.Errorf("worklist includes %v, want each referral, patient and photo", included)
	}

	clk.t = time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC) // wb (due 5 March 00:00) is late
	n, err := w.FlagOverdue(ctx, svc, clk.t)
	if err != nil || n != 1 {
		t.Fatalf("FlagOverdue = %d, %v; want 1", n, err)
	}
	if !hasTag(read(t, svc, "Task", "wb"), flagSystem, FlagOverdue) || stateOfTask(t, svc, "wb") != StateSubmitted {
		t.Error("the overdue Task is not tagged, or its state moved")
	}
	if n, err := w.FlagOverdue(ctx, svc, clk.t); err != nil || n != 0 {
		t.Errorf("flagging again = %d, %v; want 0 (once only)", n, err)
	}
}

// Photos stored with a draft count when the GP later submits it on its
// own (triage finds them in the store, not in the submitting commit).
func TestSubmitFindsStoredPhotos(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, _ := newWorkflowService(t, clk)
	ctx := t.Context()
	if r := svc.Bundle(ctx, referralTx("d1", "draft", "rash", true), rest.BundleOptions{}); !r.OK() {
		t.Fatalf("draft with photo: %d %s", r.Status, r.Body)
	}
	sr := read(t, svc, "ServiceRequest", "d1")
	sr["status"] = "active"
	if r := svc.Update(ctx, "ServiceRequest", "d1", encode(sr), ""); !r.OK() {
		t.Fatalf("submit the stored draft: %d %s", r.Status, r.Body)
	}
	if s := stateOfTask(t, svc, "d1"); s != StateSubmitted {
		t.Errorf("state %s", s)
	}
}
