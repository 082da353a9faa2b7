package stats

import (
	"testing"
	"time"

	"github.com/telederm/telederm/internal/telederm/workdays"
)

func TestNearestRank(t *testing.T) {
	for _, tc := range []struct {
		xs       []int
		p        float64
		want     int
		describe string
	}{
		{nil, 50, 0, "empty"},
		{[]int{5}, 50, 5, "one value"},
		{[]int{5}, 85, 5, "one value"},
		{[]int{4, 1, 3, 2}, 50, 2, "rank ceil(2) = 2"},
		{[]int{4, 1, 3, 2}, 85, 4, "rank ceil(3.4) = 4"},
		{[]int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 50, 5, "rank 5"},
		{[]int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 85, 9, "rank ceil(8.5) = 9"},
		{[]int{1, 2, 3}, 100, 3, "rank n"},
		{[]int{1, 2, 3}, 0, 1, "rank at least 1"},
	} {
		if got := NearestRank(append([]int(nil), tc.xs...), tc.p); got != tc.want {
			t.Errorf("%s: NearestRank(%v, %v) = %d, want %d", tc.describe, tc.xs, tc.p, got, tc.want)
		}
	}
	if got := NearestRank([]float64{2.5, 0.5, 1.5}, 50); got != 1.5 {
		t.Errorf("float median %v, want 1.5", got)
	}
}

// The week of Monday 2 March 2026 (GMT, no holidays); Good Friday is 3
// April 2026 and Easter Monday 6 April.
var (
	mon = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	day = 24 * time.Hour
)

// builders of hand-made resources.
func sr(id string, authored time.Time, opts ...func(Resource)) Resource {
	r := Resource{
		"resourceType": "ServiceRequest", "id": id, "status": "active", "intent": "order",
		"performerType": map[string]any{"coding": []any{map[string]any{"system": sct, "code": "18803008"}}},
		"authoredOn":    authored.Format(time.RFC3339),
		"requester":     map[string]any{"reference": "PractitionerRole/role-a"},
		"subject":       map[string]any{"reference": "Patient/pat-" + id},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func withStatus(s string) func(Resource) { return func(r Resource) { r["status"] = s } }
func requester(ref string) func(Resource) {
	return func(r Resource) { r["requester"] = map[string]any{"reference": ref} }
}
func performerType(code string) func(Resource) {
	return func(r Resource) {
		r["performerType"] = map[string]any{"coding": []any{map[string]any{"system": sct, "code": code}}}
	}
}
func fastTracked(r Resource) {
	r["extension"] = append(list(r, "extension"), map[string]any{"url": extTriageResult, "extension": []any{
		map[string]any{"url": "pathway", "valueCoding": map[string]any{"code": "suspected-cancer"}}}})
}
func overridden(r Resource) {
	r["extension"] = append(list(r, "extension"), map[string]any{"url": extTriageOverride})
}

func task(srID string, start time.Time, end ...time.Time) Resource {
	period := map[string]any{"start": start.Format(time.RFC3339)}
	if len(end) > 0 {
		period["end"] = end[0].Format(time.RFC3339)
	}
	return Resource{"resourceType": "Task", "id": "t-" + srID, "status": "requested", "intent": "order", "focus": map[string]any{"reference": "ServiceRequest/" + srID},
		"authoredOn": start.Add(-time.Hour).Format(time.RFC3339), "executionPeriod": period}
}

func advice(srID string, issued time.Time, outcome string, status ...string) Resource {
	st := "final"
	if len(status) > 0 {
		st = status[0]
	}
	return Resource{"resourceType": "DiagnosticReport", "id": "dr-" + srID + "-" + outcome, "status": st,
		"code":    map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "11488-4"}}},
		"basedOn": []any{map[string]any{"reference": "ServiceRequest/" + srID}}, "issued": issued.Format(time.RFC3339),
		"conclusionCode": []any{map[string]any{"coding": []any{map[string]any{"system": AdviceOutcomeSystem, "code": outcome}}}}}
}

var (
	roleA = Resource{"resourceType": "PractitionerRole", "id": "role-a", "organization": map[string]any{"reference": "Organization/a"}}
	roleB = Resource{"resourceType": "PractitionerRole", "id": "role-b", "organization": map[string]any{"reference": "https://x.example/fhir/Organization/b"}}
)

func patient(id, org string) Resource {
	return Resource{"resourceType": "Patient", "id": id, "generalPractitioner": []any{
		map[string]any{"reference": "Practitioner/gp"}, map[string]any{"reference": org}}}
}

// baseInput is four referrals on Monday 2 March 2026: 1 answered the
// same day, 2 (fast-tracked) on Tuesday, 3 (fast-tracked, from practice b)
// on Friday, 4 (overridden, requested by a Practitioner, practice c from
// the patient) still open.
func baseInput() Input {
	return Input{
		Referrals: []Resource{
			sr("1", mon),
			sr("2", mon, fastTracked),
			sr("3", mon, fastTracked, requester("PractitionerRole/role-b")),
			sr("4", mon, overridden, requester("Practitioner/gp")),
		},
		Tasks: []Resource{task("1", mon), task("2", mon), task("3", mon), task("4", mon)},
		Reports: []Resource{
			advice("1", mon.Add(3*time.Hour), "advice-only"),                 // same day, 3 h
			advice("2", mon.Add(day+2*time.Hour), "urgent-suspected-cancer"), // Tuesday: 1 working day, 26 h
			advice("3", mon.Add(4*day), "routine-appointment"),               // Friday: 4 working days, 96 h
		},
		Roles:    []Resource{roleA, roleB},
		Patients: []Resource{patient("pat-4", "Organization/c")},
	}
}

func TestCompute(t *testing.T) {
	cal := workdays.Default()
	base := baseInput()
	t.Run("base", func(t *testing.T) {
		r := Compute(base, cal, Query{})
		want := struct{ sub, ans, canc, open, ft, ov, mi int }{4, 3, 0, 1, 2, 1, 0}
		got := struct{ sub, ans, canc, open, ft, ov, mi int }{r.Submitted, r.Answered, r.Cancelled, r.Open, r.FastTrack.N, r.Override.N, r.MoreInformation.N}
		if got != want {
			t.Errorf("volumes %+v, want %+v", got, want)
		}
		outcomes := map[string]int{}
		for _, c := range r.Outcomes {
			outcomes[c.Key] = c.N
		}
		if outcomes["advice-only"] != 1 || outcomes["urgent-suspected-cancer"] != 1 || outcomes["routine-appointment"] != 1 || len(r.Outcomes) != 5 {
			t.Errorf("outcomes %+v", r.Outcomes)
		}
		if r.Outcomes[0].Share != 1.0/3 {
			t.Errorf("advice-only share %v, want 1/3", r.Outcomes[0].Share)
		}
		// Within 1: same day and Tuesday; within 2 and 3: the same two.
		for i, want := range []int{2, 2, 2} {
			if r.Within[i].N != want {
				t.Errorf("within %d working days: %d, want %d", WithinDays[i], r.Within[i].N, want)
			}
		}
		// Working days [0 1 4]: median rank 2 = 1, p85 rank 3 = 4. Hours [3 26 96].
		if r.MedianWorkingDays != 1 || r.P85WorkingDays != 4 || r.MedianHours != 26 || r.P85Hours != 96 {
			t.Errorf("turnaround %d/%d working days, %v/%v hours", r.MedianWorkingDays, r.P85WorkingDays, r.MedianHours, r.P85Hours)
		}
		if r.FastTrack.Share != 0.5 || r.Override.Share != 0.25 {
			t.Errorf("rates %+v %+v", r.FastTrack, r.Override)
		}
		wantRows := []PracticeRow{
			{Organization: "Organization/a", Submitted: 2, Answered: 2, FastTrack: 1},
			{Organization: "Organization/b", Submitted: 1, Answered: 1, FastTrack: 1},
			{Organization: "Organization/c", Submitted: 1, Open: 1},
		}
		if len(r.Practices) != len(wantRows) {
			t.Fatalf("practices %+v", r.Practices)
		}
		for i, w := range wantRows {
			if r.Practices[i] != w {
				t.Errorf("practice row %d = %+v, want %+v", i, r.Practices[i], w)
			}
		}
	})

	for _, tc := range []struct {
		name  string
		in    func() Input
		q     Query
		check func(t *testing.T, r Result)
	}{
		{"range is [from, to) on submission", func() Input { return base }, Query{From: mon, To: mon.Add(time.Second)},
			func(t *testing.T, r Result) {
				if r.Submitted != 4 {
					t.Errorf("submitted %d, want 4 (from is inclusive)", r.Submitted)
				}
			}},
		{"to is exclusive", func() Input { return base }, Query{From: mon.Add(-day), To: mon},
			func(t *testing.T, r Result) {
				if r.Submitted != 0 || r.Answered != 0 || len(r.Practices) != 0 {
					t.Errorf("submitted %d answered %d practices %d, want none", r.Submitted, r.Answered, len(r.Practices))
				}
			}},
		{"practice filter, absolute and relative references", func() Input { return base }, Query{Practice: "Organization/b"},
			func(t *testing.T, r Result) {
				if r.Submitted != 1 || r.Answered != 1 || r.Outcomes[1].N != 1 {
					t.Errorf("practice b: submitted %d answered %d outcomes %+v", r.Submitted, r.Answered, r.Outcomes)
				}
			}},
		{"practice from the patient when the requester is a Practitioner", func() Input { return base }, Query{Practice: "Organization/c"},
			func(t *testing.T, r Result) {
				if r.Submitted != 1 || r.Open != 1 || r.Override.N != 1 {
					t.Errorf("practice c: %+v", r)
				}
			}},
		{"no Task: ServiceRequest.authoredOn is the submission", func() Input {
			return Input{Referrals: []Resource{sr("1", mon)}, Reports: []Resource{advice("1", mon.Add(time.Hour), "advice-only")}, Roles: []Resource{roleA}}
		}, Query{From: mon, To: mon.Add(day)}, func(t *testing.T, r Result) {
			if r.Submitted != 1 || r.Answered != 1 || r.MedianHours != 1 {
				t.Errorf("submitted %d answered %d median hours %v", r.Submitted, r.Answered, r.MedianHours)
			}
		}},
		{"resubmission after more-information: the clock restarts", func() Input {
			resubmit := mon.Add(2 * day) // Wednesday
			return Input{
				Referrals: []Resource{sr("1", mon)},
				Tasks:     []Resource{task("1", resubmit, resubmit.Add(5*time.Hour))},
				Reports: []Resource{
					advice("1", mon.Add(day), "more-information"),
					advice("1", resubmit.Add(5*time.Hour), "routine-appointment"),
				},
				Roles: []Resource{roleA},
			}
		}, Query{}, func(t *testing.T, r Result) {
			if r.Answered != 1 || r.Outcomes[1].N != 1 || r.Outcomes[4].N != 0 || r.MoreInformation.N != 1 || r.MedianHours != 5 || r.MedianWorkingDays != 0 {
				t.Errorf("answered %d outcomes %+v more-information %d turnaround %vh/%dwd", r.Answered, r.Outcomes, r.MoreInformation.N, r.MedianHours, r.MedianWorkingDays)
			}
		}},
		{"more-information not yet resubmitted: answered, with that outcome", func() Input {
			return Input{Referrals: []Resource{sr("1", mon, withStatus("on-hold"))}, Tasks: []Resource{task("1", mon)},
				Reports: []Resource{advice("1", mon.Add(day), "more-information")}, Roles: []Resource{roleA}}
		}, Query{}, func(t *testing.T, r Result) {
			if r.Answered != 1 || r.Outcomes[4].N != 1 || r.MoreInformation.Share != 1 {
				t.Errorf("answered %d outcomes %+v mi %+v", r.Answered, r.Outcomes, r.MoreInformation)
			}
		}},
		{"Task executionPeriod.end is the answer time", func() Input {
			return Input{Referrals: []Resource{sr("1", mon)}, Tasks: []Resource{task("1", mon, mon.Add(30*time.Hour))},
				Reports: []Resource{advice("1", mon.Add(2*time.Hour), "advice-only")}, Roles: []Resource{roleA}}
		}, Query{}, func(t *testing.T, r Result) {
			if r.MedianHours != 30 || r.MedianWorkingDays != 1 {
				t.Errorf("turnaround %vh/%dwd, want 30h/1wd from the Task", r.MedianHours, r.MedianWorkingDays)
			}
		}},
		{"over a bank holiday weekend", func() Input {
			thu := time.Date(2026, 4, 2, 16, 0, 0, 0, time.UTC) // before Good Friday
			return Input{Referrals: []Resource{sr("1", thu)}, Tasks: []Resource{task("1", thu)},
				Reports: []Resource{advice("1", time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC), "advice-only")}, Roles: []Resource{roleA}}
		}, Query{}, func(t *testing.T, r Result) {
			if r.MedianWorkingDays != 1 || r.Within[0].N != 1 {
				t.Errorf("Thursday to Tuesday over Easter: %d working days, within 1: %d", r.MedianWorkingDays, r.Within[0].N)
			}
		}},
		{"not counted: drafts, other services, preliminary or outcome-less reports", func() Input {
			noOutcome := advice("2", mon.Add(time.Hour), "advice-only")
			noOutcome["conclusionCode"] = []any{map[string]any{"text": "see letter"}}
			return Input{
				Referrals: []Resource{sr("1", mon, withStatus("draft")), sr("2", mon), sr("3", mon, performerType("309294001")), sr("4", mon, withStatus("entered-in-error"))},
				Reports:   []Resource{noOutcome, advice("2", mon.Add(2*time.Hour), "routine-appointment", "preliminary")},
				Roles:     []Resource{roleA},
			}
		}, Query{}, func(t *testing.T, r Result) {
			if r.Submitted != 1 || r.Answered != 0 || r.Open != 1 {
				t.Errorf("submitted %d answered %d open %d, want 1, 0, 1", r.Submitted, r.Answered, r.Open)
			}
		}},
		{"cancelled", func() Input {
			return Input{Referrals: []Resource{sr("1", mon, withStatus("revoked")), sr("2", mon, performerType("700241009"))}, Roles: []Resource{roleA}}
		}, Query{}, func(t *testing.T, r Result) {
			if r.Submitted != 2 || r.Cancelled != 1 || r.Open != 1 || r.Practices[0].Cancelled != 1 {
				t.Errorf("%+v", r)
			}
		}},
		{"unattributed", func() Input {
			return Input{Referrals: []Resource{sr("1", mon, requester("Practitioner/x")), sr("2", mon)}, Roles: []Resource{roleA}}
		}, Query{}, func(t *testing.T, r Result) {
			if len(r.Practices) != 2 || r.Practices[0].Organization != "Organization/a" || r.Practices[1].Organization != "" {
				t.Errorf("practices %+v, want a then unattributed", r.Practices)
			}
		}},
		{"nothing answered", func() Input { return Input{Referrals: []Resource{sr("1", mon)}} }, Query{},
			func(t *testing.T, r Result) {
				if r.Answered != 0 || r.Within[2].Share != 0 || r.MedianHours != 0 || r.Outcomes[0].Share != 0 {
					t.Errorf("%+v", r)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, Compute(tc.in(), cal, tc.q)) })
	}
}
