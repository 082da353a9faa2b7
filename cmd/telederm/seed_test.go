package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/synth"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

func TestSeedFlags(t *testing.T) {
	now := time.Date(2026, 11, 27, 15, 4, 0, 0, time.UTC)
	env := func(string) string { return "" }
	c, err := parseSeedFlags([]string{"--referrals", "5"}, io.Discard, env, now)
	if err != nil || c.referrals != 5 || c.data != "./data" || c.seed != 1 || !c.end.Equal(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("defaults: %+v, %v (want the end to be today, truncated to the day)", c, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--referrals", "0"}, "--referrals must be at least 1"},
		{[]string{"--end", "27/11/2026"}, "--end must be a date"},
		{[]string{"--end", "2026-11-28"}, "is in the future"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		if _, err := parseSeedFlags(tc.args, io.Discard, env, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestSeedSmall seeds a few referrals and refuses to seed the same
// directory twice.
func TestSeedSmall(t *testing.T) {
	dir := t.TempDir()
	args := []string{"seed", "--referrals", "20", "--data", dir, "--seed", "4", "--end", "2026-06-01"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "seeded 20 referrals from 38 practices") || !strings.Contains(stderr.String(), "seed: 20/20 referrals submitted") {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := run(context.Background(), args, &stdout, &stderr, func(string) string { return "" }); code != 1 || !strings.Contains(stderr.String(), "already holds 20 ServiceRequests") {
		t.Errorf("second seed: exit %d, %s", code, stderr.String())
	}
}

// TestSeedStats is must-show 5: `telederm seed --referrals 1000`, then the
// region is read back as stored and checked against the published
// service, and $stats must give the figures this test computes on its own
// from the stored resources.
func TestSeedStats(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 1000 referrals (about 15 s)")
	}
	dir := t.TempDir()
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var stdout, stderr bytes.Buffer
	args := []string{"seed", "--referrals", "1000", "--data", dir, "--seed", "8", "--end", end.Format("2006-01-02")}
	if code := run(context.Background(), args, &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("seed: exit %d: %s", code, stderr.String())
	}
	if lines := strings.Count(stderr.String(), "\nseed: ") + 1; lines < 20 {
		t.Errorf("%d progress lines, want one every 5%%:\n%s", lines, stderr.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))

	app, err := server.Open(context.Background(), server.Config{DataDir: dir, BaseURL: "http://localhost:8080", Auth: "off", NoAudit: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	h := app.Handler()
	srs, reports, tasks := fetchAll(t, h, "ServiceRequest"), fetchAll(t, h, "DiagnosticReport"), fetchAll(t, h, "Task")
	roles, orgs, patients := fetchAll(t, h, "PractitionerRole"), fetchAll(t, h, "Organization"), fetchAll(t, h, "Patient")

	// The region as the published service describes it.
	practices := 0
	for _, o := range orgs {
		if val(o, "identifier", 0, "system") == "https://fhir.nhs.uk/Id/ods-organization-code" && val(o, "type", 0, "coding", 0, "code") == "76" {
			practices++
		}
	}
	if len(srs) != 1000 || practices != 38 || len(patients) != 1000 {
		t.Fatalf("%d referrals, %d practices, %d patients; want 1000, 38, 1000", len(srs), practices, len(patients))
	}
	for _, p := range patients {
		if !synth.ValidNHSNumber(fmt.Sprint(val(p, "identifier", 0, "value"))) {
			t.Errorf("Patient/%v: NHS number %v", p["id"], val(p, "identifier", 0, "value"))
		}
	}
	cal := workdays.Default()
	srByRef := map[string]jsonObj{}
	from := end.AddDate(0, -seedMonths, 0)
	for _, sr := range srs {
		srByRef["ServiceRequest/"+sr["id"].(string)] = sr
		authored, _ := time.Parse(time.RFC3339, fmt.Sprint(sr["authoredOn"]))
		if authored.Before(from) || !authored.Before(end) || !cal.IsWorkingDay(authored) {
			t.Errorf("ServiceRequest/%v authored %v: not a working day in [%v, %v)", sr["id"], sr["authoredOn"], from, end)
		}
	}
	outcomes := map[string]int{}
	within3, answeredOnce := 0, map[string]bool{}
	for _, d := range reports {
		ref := fmt.Sprint(val(d, "basedOn", 0, "reference"))
		sr := srByRef[ref]
		if sr == nil || answeredOnce[ref] {
			t.Fatalf("DiagnosticReport/%v: basedOn %s is no referral or answers it twice", d["id"], ref)
		}
		answeredOnce[ref] = true
		outcomes[fmt.Sprint(val(d, "conclusionCode", 0, "coding", 0, "code"))]++
		authored, _ := time.Parse(time.RFC3339, fmt.Sprint(sr["authoredOn"]))
		issued, _ := time.Parse(time.RFC3339, fmt.Sprint(d["issued"]))
		if !issued.After(authored) {
			t.Errorf("%s answered at %v, before it was sent at %v", ref, issued, authored)
		}
		if cal.Within(authored, issued, 3) {
			within3++
		}
	}
	n := float64(len(reports))
	if n < 980 {
		t.Errorf("%d answered of 1000; only the last days' referrals should be open", len(reports))
	}
	for _, c := range []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"advice-only", float64(outcomes["advice-only"]) / n, 0.40, 0.53},
		{"urgent-suspected-cancer", float64(outcomes["urgent-suspected-cancer"]) / n, 0.09, 0.16},
		{"routine-appointment", float64(outcomes["routine-appointment"]) / n, 0.33, 0.45},
		{"direct-to-procedure", float64(outcomes["direct-to-procedure"]) / n, 0.001, 0.03},
		{"more-information", float64(outcomes["more-information"]) / n, 0.001, 0.03},
		{"answered within 3 working days", float64(within3) / n, 0.80, 0.90},
	} {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: %.3f, want %.2f-%.2f (the published service)", c.what, c.got, c.min, c.max)
		}
	}

	if len(tasks) != len(srs) {
		t.Fatalf("%d Tasks for %d referrals: the workflow keeps one per referral, and $stats takes submission times from them", len(tasks), len(srs))
	}
	practice := "" // the practice of the first referral
	for _, r := range roles {
		if "PractitionerRole/"+r["id"].(string) == val(srs[0], "requester", "reference") {
			practice = fmt.Sprint(val(r, "organization", "reference"))
		}
	}
	for _, q := range []struct{ start, end, practice string }{
		{from.Format("2006-01-02"), end.Format("2006-01-02"), ""},
		{end.AddDate(0, -6, 0).Format("2006-01-02"), end.AddDate(0, -1, 0).Format("2006-01-02"), ""},
		{from.Format("2006-01-02"), end.Format("2006-01-02"), practice},
	} {
		t.Run(fmt.Sprintf("%s..%s %s", q.start, q.end, q.practice), func(t *testing.T) {
			want := expectedStats(t, cal, q.start, q.end, q.practice, srs, tasks, reports, roles)
			params := url.Values{"start": {q.start}, "end": {q.end}}
			if q.practice != "" {
				params.Set("practice", q.practice)
			}
			status, body := get(h, "/ServiceRequest/$stats?"+params.Encode())
			if status != http.StatusOK {
				t.Fatalf("$stats: %d %s", status, body)
			}
			got := flattenParameters(t, body)
			if want["submitted"] == "0" {
				t.Fatalf("the query selects no referral; the test would prove nothing")
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			for k, v := range got {
				if _, ok := want[k]; !ok && strings.HasPrefix(k, "practice-volume.") {
					t.Errorf("$stats reports %s = %v, which the stored resources do not give", k, v)
				}
			}
		})
	}
}

type jsonObj = map[string]any

// val walks decoded JSON by keys and indexes.
func val(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(jsonObj)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func get(h http.Handler, path string) (int, []byte) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// fetchAll is every resource of typ, following the Bundles' next links.
func fetchAll(t *testing.T, h http.Handler, typ string) []jsonObj {
	t.Helper()
	var out []jsonObj
	path := "/" + typ + "?_count=500"
	for path != "" {
		status, body := get(h, path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		var b struct {
			Link []struct {
				Relation, URL string
			} `json:"link"`
			Entry []struct {
				Resource jsonObj `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Entry {
			out = append(out, e.Resource)
		}
		path = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				u, err := url.Parse(l.URL)
				if err != nil {
					t.Fatal(err)
				}
				path = strings.TrimPrefix(u.Path, "/fhir") + "?" + u.RawQuery
			}
		}
	}
	return out
}

// expectedStats computes, without the stats package, what $stats must say
// for [start, end) and the practice: per the definitions of
// internal/telederm/stats (submission = Task.executionPeriod.start;
// answered = an advice issued since; answer time = Task.executionPeriod.end
// or that advice's issued; nearest-rank percentiles; practice = the
// requester PractitionerRole's organization), keyed as flattenParameters
// keys the answer.
func expectedStats(t *testing.T, cal *workdays.Calendar, start, end, practice string, srs, tasks, reports, roles []jsonObj) map[string]string {
	t.Helper()
	from, _ := time.ParseInLocation("2006-01-02", start, cal.Location())
	to, _ := time.ParseInLocation("2006-01-02", end, cal.Location())
	taskOf, adviceOf, orgOf := map[string]jsonObj{}, map[string][]jsonObj{}, map[string]string{}
	for _, x := range tasks {
		taskOf[fmt.Sprint(val(x, "focus", "reference"))] = x
	}
	for _, d := range reports {
		ref := fmt.Sprint(val(d, "basedOn", 0, "reference"))
		adviceOf[ref] = append(adviceOf[ref], d)
	}
	for _, r := range roles {
		orgOf["PractitionerRole/"+r["id"].(string)] = fmt.Sprint(val(r, "organization", "reference"))
	}
	want := map[string]int{}
	perPractice := map[string]int{}
	var days []int
	var hours []float64
	for _, sr := range srs {
		ref := "ServiceRequest/" + sr["id"].(string)
		task := taskOf[ref]
		if task == nil {
			t.Fatalf("%s has no Task", ref)
		}
		submitted, err := time.Parse(time.RFC3339Nano, fmt.Sprint(val(task, "executionPeriod", "start")))
		if err != nil {
			t.Fatalf("%s: Task executionPeriod.start %v", ref, val(task, "executionPeriod", "start"))
		}
		org := orgOf[fmt.Sprint(val(sr, "requester", "reference"))]
		if submitted.Before(from) || !submitted.Before(to) || practice != "" && org != practice {
			continue
		}
		want["submitted"]++
		perPractice[org]++
		exts, _ := sr["extension"].([]any)
		for _, e := range exts {
			switch val(e, "url") {
			case synth.ExtTriageOverride:
				want["override.count"]++
			case synth.ExtTriageResult:
				subs, _ := val(e, "extension").([]any)
				for _, x := range subs {
					if val(x, "url") == "pathway" && val(x, "valueCoding", "code") == "suspected-cancer" {
						want["fast-track.count"]++
					}
				}
			}
		}
		var answer time.Time
		outcome := ""
		for _, d := range adviceOf[ref] {
			issued, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(d["issued"]))
			code := fmt.Sprint(val(d, "conclusionCode", 0, "coding", 0, "code"))
			if code == "more-information" {
				want["more-information.count"]++
			}
			if !issued.Before(submitted) {
				answer, outcome = issued, code
			}
		}
		if outcome == "" {
			if sr["status"] == "revoked" {
				want["cancelled"]++
			} else {
				want["open"]++
			}
			continue
		}
		if end, err := time.Parse(time.RFC3339Nano, fmt.Sprint(val(task, "executionPeriod", "end"))); err == nil && !end.Before(submitted) {
			answer = end
		}
		want["answered"]++
		want["outcome."+outcome+".count"]++
		for _, n := range []int{1, 2, 3} {
			if cal.Within(submitted, answer, n) {
				want[fmt.Sprintf("answered-within.%d.count", n)]++
			}
		}
		days = append(days, cal.WorkingDaysTaken(submitted, answer))
		hours = append(hours, answer.Sub(submitted).Hours())
	}
	out := map[string]string{}
	for _, k := range []string{"submitted", "answered", "open", "cancelled", "override.count", "fast-track.count", "more-information.count"} {
		out[k] = fmt.Sprint(want[k])
	}
	for _, o := range []string{"advice-only", "routine-appointment", "urgent-suspected-cancer", "direct-to-procedure", "more-information"} {
		out["outcome."+o+".count"] = fmt.Sprint(want["outcome."+o+".count"])
	}
	for _, n := range []int{1, 2, 3} {
		out[fmt.Sprintf("answered-within.%d.count", n)] = fmt.Sprint(want[fmt.Sprintf("answered-within.%d.count", n)])
	}
	slices.Sort(days)
	slices.Sort(hours)
	rank := func(n int, p float64) int { return max(1, int(math.Ceil(p/100*float64(n)))) - 1 }
	out["turnaround-working-days.median"] = fmt.Sprint(days[rank(len(days), 50)])
	out["turnaround-working-days.p85"] = fmt.Sprint(days[rank(len(days), 85)])
	out["turnaround-hours.median"] = fmt.Sprintf("%.2f", hours[rank(len(hours), 50)])
	out["turnaround-hours.p85"] = fmt.Sprintf("%.2f", hours[rank(len(hours), 85)])
	for org, n := range perPractice {
		out["practice-volume."+org+".submitted"] = fmt.Sprint(n)
	}
	return out
}

// flattenParameters keys a $stats Parameters as expectedStats does:
// "submitted", "outcome.<code>.count", "answered-within.<n>.count",
// "turnaround-hours.median", "fast-track.count",
// "practice-volume.<Organization/id>.submitted".
func flattenParameters(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var p struct {
		Parameter []jsonObj `json:"parameter"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&p); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	value := func(x jsonObj) string {
		for k, v := range x {
			if strings.HasPrefix(k, "value") {
				return fmt.Sprint(v)
			}
		}
		return ""
	}
	for _, x := range p.Parameter {
		name := fmt.Sprint(x["name"])
		parts, _ := x["part"].([]any)
		if parts == nil {
			out[name] = value(x)
			continue
		}
		byName := map[string]string{}
		for _, pt := range parts {
			pm := pt.(jsonObj)
			if pm["name"] == "code" {
				byName["code"] = fmt.Sprint(val(pm, "valueCoding", "code"))
			} else if pm["name"] == "organization" {
				byName["organization"] = fmt.Sprint(val(pm, "valueReference", "reference"))
			} else {
				byName[fmt.Sprint(pm["name"])] = value(pm)
			}
		}
		switch name {
		case "outcome":
			out["outcome."+byName["code"]+".count"] = byName["count"]
		case "answered-within":
			out["answered-within."+byName["working-days"]+".count"] = byName["count"]
		case "turnaround-working-days", "turnaround-hours":
			out[name+".median"], out[name+".p85"] = byName["median"], byName["p85"]
		case "fast-track", "override", "more-information":
			out[name+".count"] = byName["count"]
		case "practice-volume":
			out["practice-volume."+byName["organization"]+".submitted"] = byName["submitted"]
		}
	}
	return out
}
