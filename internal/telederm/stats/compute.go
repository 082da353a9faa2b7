package stats

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Canonical URLs of the data model (profiles/README.md).
const (
	sct                 = "http://snomed.info/sct"
	tdm                 = "https://telederm.example/fhir/"
	AdviceOutcomeSystem = tdm + "CodeSystem/advice-outcome"
	extTriageResult     = tdm + "StructureDefinition/triage-result"
	extTriageOverride   = tdm + "StructureDefinition/triage-override"
)

// Outcomes are the advice-outcome codes, in the order reports list them.
var Outcomes = []string{"advice-only", "routine-appointment", "urgent-suspected-cancer", "direct-to-procedure", "more-information"}

// WithinDays are the working-day limits the answered share is reported for.
var WithinDays = []int{1, 2, 3}

// Calendar counts working days (workdays.Calendar).
type Calendar interface {
	WorkingDaysTaken(submitted, answered time.Time) int
	Within(submitted, answered time.Time, n int) bool
}

// Input is what Compute counts: the referral ServiceRequests, their Tasks,
// the DiagnosticReports basedOn them, and for practice attribution the
// PractitionerRoles and Patients the referrals name.
type Input struct {
	Referrals, Tasks, Reports, Roles, Patients []Resource
}

// Query selects referrals by submission time, [From, To), and optionally
// by practice ("Organization/id"). A zero From or To leaves that side open.
type Query struct {
	From, To time.Time
	Practice string
}

// Result is the service's numbers for a Query.
type Result struct {
	Query
	Submitted, Answered, Cancelled, Open int
	Outcomes                             []Count // one per Outcomes code; share of Answered
	Within                               []Count // one per WithinDays; share of Answered
	// Turnaround over the answered (zero when none): working days taken
	// and elapsed hours, median and 85th percentile (nearest rank).
	MedianWorkingDays, P85WorkingDays int
	MedianHours, P85Hours             float64
	// Rates of Submitted.
	FastTrack, Override, MoreInformation Count
	Practices                            []PracticeRow // by Organization reference; unattributed last
}

// Count is a number and its share of a denominator (0 when that is 0).
type Count struct {
	Key   string // outcome code or working days, for the lists
	N     int
	Share float64
}

// PracticeRow is one practice's volumes. Organization is "" for referrals
// with no practice.
type PracticeRow struct {
	Organization                                    string
	Submitted, Answered, Cancelled, Open, FastTrack int
}

// referral is one referral as the numbers see it.
type referral struct {
	submitted, answered time.Time
	isAnswered          bool
	outcome             string
	cancelled           bool
	practice            string
	fastTrack, override bool
	moreInformation     bool
}

// Compute counts in for q.
func Compute(in Input, cal Calendar, q Query) Result {
	refs := collect(in)
	res := Result{Query: q}
	outcomes := map[string]int{}
	within := make([]int, len(WithinDays))
	var days []int
	var hours []float64
	practices := map[string]*PracticeRow{}
	for _, r := range refs {
		if !q.From.IsZero() && r.submitted.Before(q.From) || !q.To.IsZero() && !r.submitted.Before(q.To) {
			continue
		}
		if q.Practice != "" && r.practice != localRef(q.Practice) {
			continue
		}
		row := practices[r.practice]
		if row == nil {
			row = &PracticeRow{Organization: r.practice}
			practices[r.practice] = row
		}
		res.Submitted++
		row.Submitted++
		if r.fastTrack {
			res.FastTrack.N++
			row.FastTrack++
		}
		if r.override {
			res.Override.N++
		}
		if r.moreInformation {
			res.MoreInformation.N++
		}
		switch {
		case r.isAnswered:
			res.Answered++
			row.Answered++
			outcomes[r.outcome]++
			for i, n := range WithinDays {
				if cal.Within(r.submitted, r.answered, n) {
					within[i]++
				}
			}
			days = append(days, cal.WorkingDaysTaken(r.submitted, r.answered))
			hours = append(hours, r.answered.Sub(r.submitted).Hours())
		case r.cancelled:
			res.Cancelled++
			row.Cancelled++
		default:
			res.Open++
			row.Open++
		}
	}
	for _, code := range Outcomes {
		res.Outcomes = append(res.Outcomes, count(code, outcomes[code], res.Answered))
	}
	for i, n := range WithinDays {
		res.Within = append(res.Within, count(strconv.Itoa(n), within[i], res.Answered))
	}
	res.MedianWorkingDays, res.P85WorkingDays = NearestRank(days, 50), NearestRank(days, 85)
	res.MedianHours, res.P85Hours = NearestRank(hours, 50), NearestRank(hours, 85)
	res.FastTrack = count("fast-track", res.FastTrack.N, res.Submitted)
	res.Override = count("override", res.Override.N, res.Submitted)
	res.MoreInformation = count("more-information", res.MoreInformation.N, res.Submitted)
	for _, row := range practices {
		res.Practices = append(res.Practices, *row)
	}
	slices.SortFunc(res.Practices, func(a, b PracticeRow) int {
		switch {
		case a.Organization == b.Organization:
			return 0
		case a.Organization == "":
			return 1
		case b.Organization == "":
			return -1
		case a.Organization < b.Organization:
			return -1
		}
		return 1
	})
	return res
}

func count(key string, n, of int) Count {
	c := Count{Key: key, N: n}
	if of > 0 {
		c.Share = float64(n) / float64(of)
	}
	return c
}

// NearestRank is the p-th percentile of xs by the nearest-rank method:
// the value at rank ceil(p/100 * n) (1-based) of xs sorted ascending; the
// zero value when xs is empty. xs is sorted in place.
func NearestRank[T int | float64](xs []T, p float64) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	rank = max(1, min(rank, len(xs)))
	return xs[rank-1]
}

// collect joins each referral with its Task, advice, role and patient.
func collect(in Input) []referral {
	tasks := map[string]Resource{} // by the ServiceRequest they focus on
	for _, t := range in.Tasks {
		sr := localRef(str(t, "focus", "reference"))
		if prev, ok := tasks[sr]; ok && str(prev, "meta", "lastUpdated") > str(t, "meta", "lastUpdated") {
			continue // one Task per referral; keep the latest if there are more
		}
		tasks[sr] = t
	}
	advice := map[string][]Resource{}
	for _, d := range in.Reports {
		if !isAdvice(d) {
			continue
		}
		for _, b := range list(d, "basedOn") {
			sr := localRef(str(b, "reference"))
			advice[sr] = append(advice[sr], d)
		}
	}
	roles, patients := byRef(in.Roles), byRef(in.Patients)
	var out []referral
	for _, sr := range in.Referrals {
		if !IsReferral(sr) {
			continue
		}
		id := self(sr)
		task := tasks[id]
		r := referral{
			practice:  practiceOf(sr, roles, patients),
			fastTrack: pathway(sr) == "suspected-cancer",
			override:  hasExtension(sr, extTriageOverride),
			cancelled: str(sr, "status") == "revoked",
		}
		var ok bool
		if r.submitted, ok = submittedAt(sr, task); !ok {
			continue
		}
		var first, latest Resource
		var firstAt, latestAt time.Time
		for _, d := range advice[id] {
			at, ok := instant(str(d, "issued"))
			code := codeIn(get(d, "conclusionCode", 0), AdviceOutcomeSystem)
			if code == "more-information" {
				r.moreInformation = true
			}
			if !ok || at.Before(r.submitted) {
				continue
			}
			if first == nil || at.Before(firstAt) {
				first, firstAt = d, at
			}
			if latest == nil || !at.Before(latestAt) {
				latest, latestAt = d, at
			}
		}
		if d, end, ok := linkedAnswer(task, advice[id], r.submitted); ok {
			// The workflow's record wins: the clock it stopped and the
			// advice it linked last (Task.output is in issue order), so a
			// consultant's clock does not decide.
			r.isAnswered, r.answered = true, end
			r.outcome = codeIn(get(d, "conclusionCode", 0), AdviceOutcomeSystem)
		} else if first != nil {
			r.isAnswered = true
			r.outcome = codeIn(get(latest, "conclusionCode", 0), AdviceOutcomeSystem)
			r.answered = firstAt
			if end, ok := instant(str(task, "executionPeriod", "end")); ok && !end.Before(r.submitted) {
				r.answered = end
			}
		}
		out = append(out, r)
	}
	return out
}

// linkedAnswer is the advice the referral's Task links last and the time
// its clock stopped, when the Task records an answer to the current
// submission.
func linkedAnswer(task Resource, advice []Resource, submitted time.Time) (Resource, time.Time, bool) {
	if task == nil {
		return nil, time.Time{}, false
	}
	end, ok := instant(str(task, "executionPeriod", "end"))
	if !ok || end.Before(submitted) {
		return nil, time.Time{}, false
	}
	outputs, _ := task["output"].([]any)
	for i := len(outputs) - 1; i >= 0; i-- {
		o, _ := outputs[i].(map[string]any)
		ref := str(o, "valueReference", "reference")
		for _, d := range advice {
			if self(d) == ref {
				return d, end, true
			}
		}
	}
	return nil, time.Time{}, false
}

// IsReferral reports whether sr is a ServiceRequest the workflow counts: a
// dermatology performerType, neither draft nor entered in error.
func IsReferral(sr Resource) bool {
	if str(sr, "resourceType") != "ServiceRequest" || !hasCoding(get(sr, "performerType"), sct, "18803008", "700241009") {
		return false
	}
	s := str(sr, "status")
	return s != "draft" && s != "entered-in-error"
}

func isAdvice(d Resource) bool {
	switch str(d, "status") {
	case "final", "amended", "corrected":
	default:
		return false
	}
	for _, cc := range list(d, "conclusionCode") {
		if codeIn(cc, AdviceOutcomeSystem) != "" {
			return true
		}
	}
	return false
}

func submittedAt(sr, task Resource) (time.Time, bool) {
	for _, s := range []string{str(task, "executionPeriod", "start"), str(task, "authoredOn"), str(sr, "authoredOn")} {
		if t, ok := instant(s); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

// practiceOf is the referral's practice (see the package doc).
func practiceOf(sr Resource, roles, patients map[string]Resource) string {
	if req := str(sr, "requester", "reference"); refType(req) == "PractitionerRole" {
		if org := str(roles[localRef(req)], "organization", "reference"); org != "" {
			return localRef(org)
		}
	}
	for _, gp := range list(patients[localRef(str(sr, "subject", "reference"))], "generalPractitioner") {
		if ref := str(gp, "reference"); refType(ref) == "Organization" {
			return localRef(ref)
		}
	}
	return ""
}

// pathway is the triage-result extension's pathway code.
func pathway(sr Resource) string {
	for _, e := range list(sr, "extension") {
		if str(e, "url") != extTriageResult {
			continue
		}
		for _, sub := range list(e, "extension") {
			if str(sub, "url") == "pathway" {
				return str(sub, "valueCoding", "code")
			}
		}
	}
	return ""
}

func hasExtension(r Resource, url string) bool {
	for _, e := range list(r, "extension") {
		if str(e, "url") == url {
			return true
		}
	}
	return false
}

func byRef(rs []Resource) map[string]Resource {
	m := make(map[string]Resource, len(rs))
	for _, r := range rs {
		m[self(r)] = r
	}
	return m
}
