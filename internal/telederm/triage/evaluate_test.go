package triage

import (
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// complete is a referral with nothing missing and no finding.
func complete() Referral {
	return Referral{
		Features: map[string]FeatureState{},
		Photos: []Photo{
			{Source: "Media/a", View: "close-up", Width: 1600, Height: 1200, ContentType: "image/jpeg"},
			{Source: "Media/b", View: "regional", Width: 1024, Height: 768, ContentType: "image/png"},
			{Source: "Media/c", View: "dermoscopic", Width: 800, Height: 600, ContentType: "image/jpeg"},
		},
		DermatoscopeAvailable: true,
		Consent:               true,
	}
}

func ruleIDs[T any](items []T, id func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func reasonIDs(r Result) []string { return ruleIDs(r.Reasons, func(x Reason) string { return x.Rule }) }
func missingIDs(r Result) []string {
	return ruleIDs(r.Missing, func(x Missing) string { return x.Rule })
}

// All 128 combinations of the seven features. The expected score is the
// NICE NG12 definition written out here: 2 points for each major feature,
// 1 for each minor, suspected cancer from 3.
func TestChecklistAllCombinations(t *testing.T) {
	major := []string{"change-in-size", "irregular-shape", "irregular-colour"}
	minor := []string{"diameter-7mm", "inflammation", "oozing", "change-in-sensation"}
	all := append(append([]string{}, major...), minor...)
	rules := Default()
	for mask := 0; mask < 128; mask++ {
		ref := complete()
		ref.Checklist = true
		want := 0
		for i, f := range all {
			if mask&(1<<i) != 0 {
				ref.Features[f] = Present
				if i < len(major) {
					want += 2
				} else {
					want++
				}
			} else {
				ref.Features[f] = Absent
			}
		}
		wantPathway, wantPriority := Routine, "routine"
		if want >= 3 {
			wantPathway, wantPriority = SuspectedCancer, "asap"
		}
		res := Evaluate(rules, ref)
		if res.Score == nil || *res.Score != want {
			t.Fatalf("mask %07b: score %v, want %d", mask, res.Score, want)
		}
		if res.Pathway != wantPathway || res.Priority != wantPriority {
			t.Fatalf("mask %07b (score %d): pathway %s/%s, want %s/%s", mask, want, res.Pathway, res.Priority, wantPathway, wantPriority)
		}
		if fired := slices.Contains(reasonIDs(res), "seven-point-score"); fired != (want >= 3) {
			t.Fatalf("mask %07b: seven-point-score reason %v, score %d", mask, fired, want)
		}
		if len(res.Missing) != 0 {
			t.Fatalf("mask %07b: unexpected missing %v", mask, res.Missing)
		}
	}
}

func TestChecklistDetails(t *testing.T) {
	rules := Default()
	ref := complete()
	if res := Evaluate(rules, ref); res.Score != nil {
		t.Errorf("no checklist: score %d, want none", *res.Score)
	}
	ref.Checklist = true
	ref.Features = map[string]FeatureState{"change-in-size": Present, "inflammation": Absent}
	given := 4
	ref.ScoreGiven = &given
	res := Evaluate(rules, ref)
	if *res.Score != 2 || !res.ScoreMismatch || *res.ScoreGiven != 4 {
		t.Errorf("score %d given %v mismatch %v", *res.Score, res.ScoreGiven, res.ScoreMismatch)
	}
	if !slices.Contains(missingIDs(res), "seven-point-score") || res.Missing[0].Severity != Recommended {
		t.Errorf("unknown features should be a recommended missing item: %+v", res.Missing)
	}
	given = 2
	if res := Evaluate(rules, ref); res.ScoreMismatch {
		t.Error("matching given score flagged as a mismatch")
	}
}

func ptr[T any](v T) *T { return &v }

// Each clinical rule with a case where it fires and one where it does not.
func TestClinicalRules(t *testing.T) {
	rules := Default()
	face, scalp, back := "89545001", "41695006", "123961009"
	bcc, scc, melanoma, nodular := "254701007", "254651007", "93655004", "254731008"
	cases := []struct {
		name        string
		ref         func(r *Referral)
		rule        string
		fires       bool
		wantPathway string
	}{
		{"dermoscopy suggests melanoma", func(r *Referral) { r.DermoscopyMelanoma = ptr(true) }, "dermoscopy-melanoma", true, SuspectedCancer},
		{"dermoscopy does not", func(r *Referral) { r.DermoscopyMelanoma = ptr(false) }, "dermoscopy-melanoma", false, Routine},
		{"no dermoscopy", func(r *Referral) {}, "dermoscopy-melanoma", false, Routine},
		{"suspected melanoma coded", func(r *Referral) { r.DiagnosisCodes = []string{melanoma} }, "suspected-melanoma", true, SuspectedCancer},
		{"naevus is not melanoma", func(r *Referral) { r.DiagnosisCodes = []string{"400010006"} }, "suspected-melanoma", false, Routine},
		{"nodular melanoma coded", func(r *Referral) { r.DiagnosisCodes = []string{nodular} }, "nodular-melanoma", true, SuspectedCancer},
		{"nodular melanoma not coded", func(r *Referral) { r.DiagnosisCodes = []string{"95324001"} }, "nodular-melanoma", false, Routine},
		{"SCC coded", func(r *Referral) { r.DiagnosisCodes = []string{scc} }, "suspected-scc", true, SuspectedCancer},
		{"SCC classic picture", func(r *Referral) {
			r.Texts = []string{"Non-healing crusted lesion on the back of the hand with induration"}
			r.SizeMm = ptr(15.0)
		}, "suspected-scc", true, SuspectedCancer},
		{"classic picture but 10 mm (not over 1 cm)", func(r *Referral) {
			r.Texts = []string{"Non-healing keratinising lesion, indurated"}
			r.SizeMm = ptr(10.0)
		}, "suspected-scc", false, Routine},
		{"classic picture without induration", func(r *Referral) {
			r.Texts = []string{"Non-healing crusted lesion"}
			r.SizeMm = ptr(15.0)
		}, "suspected-scc", false, Routine},
		{"classic picture with size unknown", func(r *Referral) {
			r.Texts = []string{"Non-healing crusted lesion with induration"}
		}, "suspected-scc", false, Routine},
		{"BCC on the face", func(r *Referral) { r.DiagnosisCodes = []string{bcc}; r.BodySites = []string{face} }, "bcc-flagged", true, SuspectedCancer},
		{"BCC on the scalp", func(r *Referral) { r.DiagnosisCodes = []string{bcc}; r.BodySites = []string{scalp} }, "bcc-flagged", true, SuspectedCancer},
		{"BCC of 20 mm on the back", func(r *Referral) {
			r.DiagnosisCodes = []string{bcc}
			r.BodySites = []string{back}
			r.SizeMm = ptr(20.0)
		}, "bcc-flagged", true, SuspectedCancer},
		{"BCC of 19 mm on the back", func(r *Referral) {
			r.DiagnosisCodes = []string{bcc}
			r.BodySites = []string{back}
			r.SizeMm = ptr(19.0)
		}, "bcc-flagged", false, Routine},
		{"face without BCC", func(r *Referral) { r.BodySites = []string{face} }, "bcc-flagged", false, Routine},
		{"BCC on the back is routine", func(r *Referral) { r.DiagnosisCodes = []string{bcc}; r.BodySites = []string{back} }, "bcc-routine", true, Routine},
		{"flagged BCC is not routine", func(r *Referral) { r.DiagnosisCodes = []string{bcc}; r.BodySites = []string{face} }, "bcc-routine", false, SuspectedCancer},
		{"no BCC, no bcc-routine", func(r *Referral) { r.DiagnosisCodes = []string{"400010006"} }, "bcc-routine", false, Routine},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := complete()
			tc.ref(&ref)
			res := Evaluate(rules, ref)
			if got := slices.Contains(reasonIDs(res), tc.rule); got != tc.fires {
				t.Errorf("%s fired = %v, want %v (reasons %v)", tc.rule, got, tc.fires, reasonIDs(res))
			}
			if res.Pathway != tc.wantPathway {
				t.Errorf("pathway %s, want %s", res.Pathway, tc.wantPathway)
			}
			wantSLA := map[string]int{SuspectedCancer: 2, Routine: 3}[tc.wantPathway]
			if res.SLAWorkingDays != wantSLA {
				t.Errorf("SLA %d, want %d", res.SLAWorkingDays, wantSLA)
			}
		})
	}
}

// Photo and consent rules: each with a passing and a failing case.
func TestCompletenessRules(t *testing.T) {
	rules := Default()
	without := func(view string) func(r *Referral) {
		return func(r *Referral) {
			r.Photos = slices.DeleteFunc(r.Photos, func(p Photo) bool { return p.View == view })
		}
	}
	suspected := func(r *Referral) { r.DermoscopyMelanoma = ptr(true) }
	cases := []struct {
		name         string
		ref          func(r *Referral)
		rule         string
		wantSeverity string // "" when the rule must not report anything
	}{
		{"close-up present", func(r *Referral) {}, "image-close-up", ""},
		{"close-up missing", without("close-up"), "image-close-up", Required},
		{"regional present", func(r *Referral) {}, "image-regional", ""},
		{"regional missing", without("regional"), "image-regional", Required},
		{"dermoscopic present on suspected cancer", suspected, "image-dermoscopic", ""},
		{"dermoscopic missing on suspected cancer with a dermatoscope", func(r *Referral) { suspected(r); without("dermoscopic")(r) }, "image-dermoscopic", Required},
		{"dermoscopic missing on suspected cancer without one", func(r *Referral) {
			suspected(r)
			without("dermoscopic")(r)
			r.DermatoscopeAvailable = false
		}, "image-dermoscopic", Recommended},
		{"dermoscopic not needed on routine", without("dermoscopic"), "image-dermoscopic", ""},
		{"unknown view does not count", func(r *Referral) { r.Photos[0].View = "" }, "image-close-up", Required},
		{"800x600 is enough", func(r *Referral) {}, "image-size", ""},
		{"600x800 (portrait) is enough", func(r *Referral) { r.Photos[2].Width, r.Photos[2].Height = 600, 800 }, "image-size", ""},
		{"799x600 is too small", func(r *Referral) { r.Photos[2].Width = 799 }, "image-size", Required},
		{"800x599 is too small", func(r *Referral) { r.Photos[2].Height = 599 }, "image-size", Required},
		{"unknown size is recommended", func(r *Referral) { r.Photos[2].Width, r.Photos[2].Height = 0, 0 }, "image-size", Recommended},
		{"jpeg, png and heic accepted", func(r *Referral) { r.Photos[2].ContentType = "image/HEIC" }, "image-type", ""},
		{"gif refused", func(r *Referral) { r.Photos[1].ContentType = "image/gif" }, "image-type", Required},
		{"no content type refused", func(r *Referral) { r.Photos[1].ContentType = "" }, "image-type", Required},
		{"consent recorded", func(r *Referral) {}, "consent", ""},
		{"consent missing", func(r *Referral) { r.Consent = false }, "consent", Required},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := complete()
			tc.ref(&ref)
			res := Evaluate(rules, ref)
			var got []Missing
			for _, m := range res.Missing {
				if m.Rule == tc.rule {
					got = append(got, m)
				}
			}
			switch {
			case tc.wantSeverity == "" && len(got) > 0:
				t.Errorf("%s reported %+v", tc.rule, got)
			case tc.wantSeverity != "" && (len(got) != 1 || got[0].Severity != tc.wantSeverity):
				t.Errorf("%s: got %+v, want one %s item", tc.rule, got, tc.wantSeverity)
			}
			blocks := slices.ContainsFunc(Blocking(res), func(is fhir.Issue) bool { return strings.HasPrefix(is.Diagnostics, tc.rule+":") })
			if blocks != (tc.wantSeverity == Required) {
				t.Errorf("Blocking includes %s = %v, want %v", tc.rule, blocks, tc.wantSeverity == Required)
			}
		})
	}
}

func TestBlocking(t *testing.T) {
	ref := complete()
	ref.Photos = ref.Photos[2:] // only the dermoscopic one
	ref.Consent = false
	ref.Checklist = true // all features unknown: recommended only
	issues := Blocking(Evaluate(Default(), ref))
	want := map[string]string{"image-close-up": "ServiceRequest", "image-regional": "ServiceRequest", "consent": "ServiceRequest.subject"}
	if len(issues) != len(want) {
		t.Fatalf("issues %+v, want %d", issues, len(want))
	}
	for _, is := range issues {
		rule, _, _ := strings.Cut(is.Diagnostics, ":")
		if is.Severity != fhir.SeverityError || is.Code != fhir.CodeRequired || len(is.Expression) != 1 || is.Expression[0] != want[rule] {
			t.Errorf("issue %+v (rule %q)", is, rule)
		}
	}
	if got := Blocking(Evaluate(Default(), complete())); len(got) != 0 {
		t.Errorf("a complete referral blocks: %+v", got)
	}
}

func TestOverride(t *testing.T) {
	rules := Default()
	ref := complete()
	ref.Photos = ref.Photos[:2] // no dermoscopic photo
	ref.Override = &Override{Pathway: SuspectedCancer, Reason: "clinical-concern", ReasonText: "rapid growth reported by patient"}
	res := Evaluate(rules, ref)
	if !res.Overridden || res.Pathway != SuspectedCancer || res.RecommendedPathway != Routine || res.Priority != "asap" || res.SLAWorkingDays != 2 {
		t.Fatalf("override not applied: %+v", res)
	}
	if res.OverrideReason != "clinical-concern" || !slices.Contains(reasonIDs(res), "override") {
		t.Errorf("override not recorded: %+v", res)
	}
	// The GP's pathway governs the photo rules too.
	if !slices.Contains(missingIDs(res), "image-dermoscopic") {
		t.Errorf("dermoscopic photo should be required on the overridden pathway: %v", missingIDs(res))
	}

	// Downgrading suspected cancer to routine is an override as well.
	ref = complete()
	ref.DiagnosisCodes = []string{"254651007"}
	ref.Override = &Override{Pathway: Routine, Reason: "reassuring-history"}
	if res := Evaluate(rules, ref); !res.Overridden || res.Pathway != Routine || res.Priority != "routine" {
		t.Errorf("downgrade: %+v", res)
	}

	// An override that agrees with the rules is not counted as one.
	ref.Override = &Override{Pathway: SuspectedCancer, Reason: "other"}
	if res := Evaluate(rules, ref); res.Overridden || slices.Contains(reasonIDs(res), "override") {
		t.Errorf("agreeing override counted: %+v", res)
	}
	// An override naming an unknown pathway is ignored.
	ref.Override = &Override{Pathway: "urgent", Reason: "other"}
	if res := Evaluate(rules, ref); res.Overridden || res.Pathway != SuspectedCancer {
		t.Errorf("unknown pathway override applied: %+v", res)
	}
}
