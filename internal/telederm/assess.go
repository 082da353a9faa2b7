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

// floatNumbers copies d with JSON numbers as float64, the form the triage
// package reads (the workflow keeps json.Number to write back exactly what
// it read). It walks the tree rather than encoding and decoding it, which
// cost 4% of a referral bundle's ingest.
func floatNumbers(d map[string]any) map[string]any {
	out, _ := floatValue(d).(map[string]any)
	return out
}

func floatValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = floatValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = floatValue(e)
		}
		return out
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v
	case nil, string, bool, float64:
		return v
	}
	// Anything else (a typed slice or number a caller built) takes the
	// JSON round trip, which gives the same result the slow way.
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}
