package telederm

import (
	"encoding/json"

	"github.com/telederm/telederm/internal/telederm/triage"
)

// TriageWith is the Triager of the pathway rules.
func TriageWith(rules *triage.Rules) Triager {
	return func(sr map[string]any, related []map[string]any) Assessment {
		rel := make([]map[string]any, len(related))
		for i, d := range related {
			rel[i] = floatNumbers(d)
		}
		r := triage.Evaluate(rules, triage.FromResources(floatNumbers(sr), rel))
		return Assessment{
			Priority: r.Priority, SLADays: r.SLAWorkingDays, Extension: r.Extension(),
			Blocking: triage.Blocking(r), Parameters: r.Parameters(),
		}
	}
}

// floatNumbers re-decodes d with JSON numbers as float64, the form the
// triage package reads (the workflow keeps json.Number to write back
// exactly what it read).
func floatNumbers(d map[string]any) map[string]any {
	b, err := json.Marshal(d)
	if err != nil {
		return d
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return d
	}
	return out
}
