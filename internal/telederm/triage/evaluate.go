package triage

import (
	"fmt"
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// Result is the triage recommendation for one referral.
type Result struct {
	RulesVersion string
	// Pathway is the pathway in force: the GP's override when there is
	// one, else the rules' recommendation (RecommendedPathway).
	Pathway            string
	PathwayDisplay     string
	RecommendedPathway string
	Priority           string // ServiceRequest.priority: asap is the two-week wait
	SLAWorkingDays     int

	Score         *int // weighted checklist score, nil without a checklist
	ScoreGiven    *int // the checklist's own valueInteger, if any
	ScoreMismatch bool // ScoreGiven disagrees with Score

	Reasons []Reason
	Missing []Missing

	// Overridden is true when the GP's pathway differs from the rules'.
	Overridden         bool
	OverrideReason     string // override-reason code
	OverrideReasonText string
}

// Reason is a rule that fired.
type Reason struct {
	Rule     string // triage-rule code
	Text     string
	Strength string // refer or consider ("" for informational reasons)
}

// Missing is something the rules require or recommend that is absent or
// inadequate.
type Missing struct {
	Rule       string // triage-rule code
	Text       string
	Severity   string // required or recommended
	Expression string // FHIRPath of the element at fault
	IssueCode  string // OperationOutcome issue type when it blocks
}

// Evaluate applies the rules to a referral. It is deterministic: the same
// rules and referral always give the same result, in file order.
func Evaluate(rules *Rules, ref Referral) Result {
	res := Result{RulesVersion: rules.Version, RecommendedPathway: Routine}
	escalate := func(pathway string) {
		if pathway == SuspectedCancer {
			res.RecommendedPathway = SuspectedCancer
		}
	}

	if ref.Checklist {
		cl := rules.Checklist
		score, unknown := 0, []string{}
		for _, f := range cl.Features {
			switch ref.Features[f.Code] {
			case Present:
				score += f.Points
			case Unknown:
				unknown = append(unknown, f.Display)
			}
		}
		res.Score = &score
		if ref.ScoreGiven != nil {
			res.ScoreGiven = ref.ScoreGiven
			res.ScoreMismatch = *ref.ScoreGiven != score
		}
		if score >= cl.Threshold {
			res.Reasons = append(res.Reasons, Reason{Rule: cl.ID, Strength: "refer",
				Text: fmt.Sprintf("%s: score %d (threshold %d)", cl.Display, score, cl.Threshold)})
			escalate(cl.Pathway)
		}
		if len(unknown) > 0 {
			res.Missing = append(res.Missing, Missing{Rule: cl.ID, Severity: Recommended, IssueCode: fhir.CodeRequired,
				Expression: "Observation.component",
				Text:       "7-point checklist incomplete, not recorded: " + strings.Join(unknown, ", ")})
		}
	}

	for _, rule := range rules.Rules {
		if rule.When.holds(&ref) {
			res.Reasons = append(res.Reasons, Reason{Rule: rule.ID, Text: rule.Display, Strength: rule.Strength})
			escalate(rule.Pathway)
		}
	}

	res.Pathway = res.RecommendedPathway
	if o := ref.Override; o != nil {
		if _, ok := rules.Pathways[o.Pathway]; ok {
			res.OverrideReason, res.OverrideReasonText = o.Reason, o.ReasonText
			if o.Pathway != res.RecommendedPathway {
				res.Pathway = o.Pathway
				res.Overridden = true
				text := fmt.Sprintf("%s: %s instead of %s (%s)", rules.Override.Display, o.Pathway, res.RecommendedPathway, o.Reason)
				if o.ReasonText != "" {
					text += ": " + o.ReasonText
				}
				res.Reasons = append(res.Reasons, Reason{Rule: rules.Override.ID, Text: text})
			}
		}
	}
	info := rules.Pathways[res.Pathway]
	res.PathwayDisplay, res.Priority, res.SLAWorkingDays = info.Display, info.Priority, info.SLAWorkingDays

	res.Missing = append(res.Missing, checkPhotos(rules, &ref, res.Pathway)...)
	if !ref.Consent {
		res.Missing = append(res.Missing, Missing{Rule: rules.Consent.ID, Text: rules.Consent.Display + ": none found",
			Severity: rules.Consent.Severity, Expression: "ServiceRequest.subject", IssueCode: fhir.CodeRequired})
	}
	return res
}

func checkPhotos(rules *Rules, ref *Referral, pathway string) []Missing {
	var out []Missing
	for _, v := range rules.Photos.Views {
		if len(v.Pathways) > 0 && !slices.Contains(v.Pathways, pathway) {
			continue
		}
		if slices.ContainsFunc(ref.Photos, func(p Photo) bool { return p.View == v.View }) {
			continue
		}
		sev := v.Severity
		if !ref.DermatoscopeAvailable && v.SeverityWithoutDermatoscope != "" {
			sev = v.SeverityWithoutDermatoscope
		}
		out = append(out, Missing{Rule: v.ID, Text: v.Display + ": none found", Severity: sev,
			Expression: "ServiceRequest", IssueCode: fhir.CodeRequired})
	}
	size, ct := rules.Photos.Size, rules.Photos.ContentType
	for _, p := range ref.Photos {
		media := strings.HasPrefix(p.Source, "Media")
		switch {
		case p.Width <= 0 || p.Height <= 0:
			// A DocumentReference cannot say; the consultant may still cope.
			out = append(out, Missing{Rule: size.ID, Severity: Recommended, IssueCode: fhir.CodeRequired,
				Expression: pick(media, "Media.width", "DocumentReference.content.attachment"),
				Text:       fmt.Sprintf("%s: pixel size of %s unknown", size.Display, p.Source)})
		case !(p.Width >= size.MinWidth && p.Height >= size.MinHeight) && !(p.Width >= size.MinHeight && p.Height >= size.MinWidth):
			out = append(out, Missing{Rule: size.ID, Severity: size.Severity, IssueCode: fhir.CodeValue,
				Expression: pick(media, "Media.width", "DocumentReference.content.attachment"),
				Text:       fmt.Sprintf("%s: %s is %dx%d", size.Display, p.Source, p.Width, p.Height)})
		}
		mime := strings.ToLower(strings.TrimSpace(strings.SplitN(p.ContentType, ";", 2)[0]))
		if !slices.Contains(ct.Allowed, mime) {
			out = append(out, Missing{Rule: ct.ID, Severity: ct.Severity, IssueCode: fhir.CodeValue,
				Expression: pick(media, "Media.content.contentType", "DocumentReference.content.attachment.contentType"),
				Text:       fmt.Sprintf("%s: %s is %q", ct.Display, p.Source, p.ContentType)})
		}
	}
	return out
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

// holds reports whether every field the condition sets holds; unknown
// size or dermoscopy never satisfies a test on them (nor its negation's
// inner test, so "not" of an unknown holds).
func (c *Condition) holds(r *Referral) bool {
	if len(c.CodesAny) > 0 && !anyIn(c.CodesAny, r.DiagnosisCodes) {
		return false
	}
	if len(c.BodySiteAny) > 0 && !anyIn(c.BodySiteAny, r.BodySites) {
		return false
	}
	if len(c.TextAny) > 0 && !textHas(r.Texts, c.TextAny) {
		return false
	}
	if c.SizeAtLeastMm != nil && (r.SizeMm == nil || *r.SizeMm < *c.SizeAtLeastMm) {
		return false
	}
	if c.SizeOverMm != nil && (r.SizeMm == nil || *r.SizeMm <= *c.SizeOverMm) {
		return false
	}
	if c.DermoscopyMelanoma != nil && (r.DermoscopyMelanoma == nil || *r.DermoscopyMelanoma != *c.DermoscopyMelanoma) {
		return false
	}
	for i := range c.AllOf {
		if !c.AllOf[i].holds(r) {
			return false
		}
	}
	if len(c.AnyOf) > 0 && !slices.ContainsFunc(c.AnyOf, func(s Condition) bool { return s.holds(r) }) {
		return false
	}
	if c.Not != nil && c.Not.holds(r) {
		return false
	}
	return true
}

func anyIn(want, have []string) bool {
	return slices.ContainsFunc(have, func(h string) bool { return slices.Contains(want, h) })
}

func textHas(texts, words []string) bool {
	for _, t := range texts {
		t = strings.ToLower(t)
		for _, w := range words {
			if strings.Contains(t, strings.ToLower(w)) {
				return true
			}
		}
	}
	return false
}
