package synth

import (
	"encoding/json"
	"testing"
	"time"
)

// TestAdviceMix draws outcomes for referrals as the seed does and checks
// the mix against the published one (47% advice only, 12% urgent
// suspected cancer, 39% routine, about 1% each of the other two), and the
// answer times against "85% within 3 working days".
func TestAdviceMix(t *testing.T) {
	g := New(5)
	const n = 20000
	count := map[string]int{}
	suspectedUrgent, suspected := 0, 0
	within3 := 0
	for range n {
		r := g.ReferralFrom(testReferrer, epoch)
		out := g.AdviceOutcome(r.Suspected)
		count[out]++
		if r.Suspected {
			suspected++
			if out == OutcomeUrgentCancer {
				suspectedUrgent++
			}
		}
		if g.AnswerWorkingDays() <= 3 {
			within3++
		}
	}
	share := func(c int) float64 { return float64(c) / n }
	for _, c := range []struct {
		code     string
		min, max float64
	}{
		{OutcomeAdviceOnly, 0.44, 0.51},
		{OutcomeUrgentCancer, 0.10, 0.14},
		{OutcomeRoutine, 0.36, 0.42},
		{OutcomeDirectProcedure, 0.004, 0.02},
		{OutcomeMoreInformation, 0.004, 0.02},
	} {
		if s := share(count[c.code]); s < c.min || s > c.max {
			t.Errorf("%s: %.3f of referrals, want %.3f-%.3f", c.code, s, c.min, c.max)
		}
	}
	if s := float64(suspectedUrgent) / float64(suspected); s < 0.7 {
		t.Errorf("only %.2f of suspected-cancer referrals get urgent-suspected-cancer", s)
	}
	if s := share(within3); s < 0.82 || s > 0.88 {
		t.Errorf("%.3f answered within 3 working days, want about 0.85", s)
	}
	t.Logf("mix %v; suspected %.3f; within 3 working days %.3f", count, share(suspected), share(within3))
}

func TestAdviceReport(t *testing.T) {
	issued := time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC)
	raw := New(1).AdviceReport(Advice{Referral: "ServiceRequest/1", Patient: "Patient/2", Consultant: "Practitioner/3", Issued: issued, Outcome: OutcomeRoutine})
	var m jmap
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"resourceType", m["resourceType"], "DiagnosticReport"},
		{"status", m["status"], "final"},
		{"code", coding(m["code"]), loinc + "|11488-4"},
		{"basedOn", at(m, "basedOn", 0, "reference"), "ServiceRequest/1"},
		{"subject", at(m, "subject", "reference"), "Patient/2"},
		{"performer", at(m, "performer", 0, "reference"), "Practitioner/3"},
		{"issued", m["issued"], "2026-03-04T10:30:00.000Z"},
		{"outcome", coding(at(m, "conclusionCode", 0)), AdviceOutcomeSystem + "|" + OutcomeRoutine},
		{"profile", profiles(m), "[" + ProfileAdvice + "]"},
		{"conclusion set", m["conclusion"] != nil, true},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestRegion(t *testing.T) {
	r := New(3).Region(38)
	if len(r.Practices) != 38 || len(r.Consultants) != consultants || r.Service == "" {
		t.Fatalf("%d practices, %d consultants, service %q", len(r.Practices), len(r.Consultants), r.Service)
	}
	names, codes := map[string]bool{}, map[string]bool{}
	for _, p := range r.Practices {
		if names[p.Name] || codes[p.ODS] {
			t.Errorf("practice %s (%s) repeats a name or ODS code", p.Name, p.ODS)
		}
		names[p.Name], codes[p.ODS] = true, true
		if len(p.GPs) < 2 || len(p.GPs) > 5 {
			t.Errorf("practice %s has %d GPs", p.Name, len(p.GPs))
		}
	}
	byURL, _ := referralEntries(t, r.Bundle)
	for _, p := range r.Practices {
		for _, gp := range p.GPs {
			role := byURL[gp.Role]
			if at(role, "organization", "reference") != p.Organization || at(role, "practitioner", "reference") != gp.Practitioner {
				t.Errorf("role %s does not tie its GP to %s", gp.Role, p.Name)
			}
		}
	}
}
