package triage

import (
	"encoding/json"

	"github.com/telederm/telederm/fhir"
)

// Canonical URLs of the data model (profiles/README.md).
const (
	Base                  = "https://telederm.example/fhir/"
	SNOMED                = "http://snomed.info/sct"
	SystemPathway         = Base + "CodeSystem/triage-pathway"
	SystemRule            = Base + "CodeSystem/triage-rule"
	SystemOverrideReason  = Base + "CodeSystem/override-reason"
	SystemChecklist       = Base + "CodeSystem/seven-point-checklist"
	SystemPhotoView       = Base + "CodeSystem/photo-view"
	SystemConsentType     = Base + "CodeSystem/consent-type"
	ExtensionTriageResult = Base + "StructureDefinition/triage-result"
	ExtensionOverride     = Base + "StructureDefinition/triage-override"
)

func coding(system, code, display string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

// Extension is the triage-result complex extension for the ServiceRequest.
// An override shows as the pathway in force plus a reason with the
// override rule's code (the extension has no slot of its own for it; the
// GP's triage-override extension sits beside it).
func (r Result) Extension() map[string]any {
	ext := []any{map[string]any{"url": "pathway", "valueCoding": coding(SystemPathway, r.Pathway, r.PathwayDisplay)}}
	if r.Score != nil {
		ext = append(ext, map[string]any{"url": "score", "valueInteger": *r.Score})
	}
	for _, rs := range r.Reasons {
		ext = append(ext, map[string]any{"url": "reason", "valueCoding": coding(SystemRule, rs.Rule, rs.Text)})
	}
	for _, m := range r.Missing {
		ext = append(ext, map[string]any{"url": "missing", "valueCoding": coding(SystemRule, m.Rule, m.Severity+": "+m.Text)})
	}
	ext = append(ext, map[string]any{"url": "rules", "valueString": r.RulesVersion})
	return map[string]any{"url": ExtensionTriageResult, "extension": ext}
}

// Parameters is the R4 Parameters resource ServiceRequest/$triage returns.
// Beyond the documented parameters it adds rulesVersion, scoreGiven when the
// checklist's own score disagreed, and recommendedPathway and
// overrideReason when the GP overrode the rules.
func (r Result) Parameters() []byte {
	p := []any{
		map[string]any{"name": "pathway", "valueCoding": coding(SystemPathway, r.Pathway, r.PathwayDisplay)},
		map[string]any{"name": "priority", "valueCode": r.Priority},
	}
	if r.Score != nil {
		p = append(p, map[string]any{"name": "score", "valueInteger": *r.Score})
	}
	if r.ScoreMismatch {
		p = append(p, map[string]any{"name": "scoreGiven", "valueInteger": *r.ScoreGiven})
	}
	for _, rs := range r.Reasons {
		p = append(p, map[string]any{"name": "reason", "part": []any{
			map[string]any{"name": "rule", "valueCoding": coding(SystemRule, rs.Rule, "")},
			map[string]any{"name": "text", "valueString": rs.Text},
		}})
	}
	for _, m := range r.Missing {
		p = append(p, map[string]any{"name": "missing", "part": []any{
			map[string]any{"name": "rule", "valueCoding": coding(SystemRule, m.Rule, "")},
			map[string]any{"name": "text", "valueString": m.Text},
			map[string]any{"name": "severity", "valueCode": m.Severity},
		}})
	}
	p = append(p,
		map[string]any{"name": "slaWorkingDays", "valueInteger": r.SLAWorkingDays},
		map[string]any{"name": "overridden", "valueBoolean": r.Overridden},
	)
	if r.Overridden {
		p = append(p,
			map[string]any{"name": "recommendedPathway", "valueCoding": coding(SystemPathway, r.RecommendedPathway, "")},
			map[string]any{"name": "overrideReason", "valueCoding": coding(SystemOverrideReason, r.OverrideReason, "")},
		)
	}
	p = append(p, map[string]any{"name": "rulesVersion", "valueString": r.RulesVersion})
	b, err := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": p})
	if err != nil {
		panic(err) // only maps, strings, ints and bools: cannot fail
	}
	return b
}

// Blocking is the required items that are missing, as OperationOutcome
// issues: the workflow refuses a submission that has any.
func Blocking(r Result) []fhir.Issue {
	var out []fhir.Issue
	for _, m := range r.Missing {
		if m.Severity != Required {
			continue
		}
		out = append(out, fhir.Issue{Severity: fhir.SeverityError, Code: m.IssueCode,
			Diagnostics: m.Rule + ": " + m.Text, Expression: []string{m.Expression}})
	}
	return out
}
