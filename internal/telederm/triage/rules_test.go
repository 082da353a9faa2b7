package triage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestDefaultRulesLoad(t *testing.T) {
	r := Default()
	if r.Version == "" {
		t.Fatal("rules file has no version")
	}
	ids := map[string]bool{}
	for _, c := range r.RuleCodes() {
		if ids[c.ID] {
			t.Errorf("rule id %q twice", c.ID)
		}
		ids[c.ID] = true
	}
	// The codes profiles/README.md names for the triage-rule CodeSystem.
	for _, id := range []string{"seven-point-score", "dermoscopy-melanoma", "nodular-melanoma", "suspected-scc", "bcc-flagged", "bcc-routine",
		"image-close-up", "image-regional", "image-dermoscopic", "image-size", "image-type", "consent"} {
		if !ids[id] {
			t.Errorf("default rules lack %q", id)
		}
	}
	if p := r.Pathways[SuspectedCancer]; p.Priority != "asap" || p.SLAWorkingDays != 2 {
		t.Errorf("suspected-cancer pathway = %+v", p)
	}
	if p := r.Pathways[Routine]; p.Priority != "routine" || p.SLAWorkingDays != 3 {
		t.Errorf("routine pathway = %+v", p)
	}
}

// mutate loads the default rules as generic JSON, lets f change them and
// returns the bytes.
func mutate(t *testing.T, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(defaultRules, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadRejectsBadRules(t *testing.T) {
	get := func(m map[string]any, k string) map[string]any { return m[k].(map[string]any) }
	rule := func(m map[string]any, i int) map[string]any { return m["rules"].([]any)[i].(map[string]any) }
	cases := []struct {
		name   string
		change func(m map[string]any)
		want   []string // substrings of the error
	}{
		{"misspelled key", func(m map[string]any) {
			cl := get(m, "checklist")
			cl["thresold"] = cl["threshold"]
			delete(cl, "threshold")
		}, []string{"$.checklist.thresold: unknown field", "$.checklist: threshold is required"}},
		{"wrong type", func(m map[string]any) { get(m, "checklist")["threshold"] = "3" }, []string{"$.checklist.threshold", "integer"}},
		{"wrong type deep in a condition", func(m map[string]any) {
			rule(m, 1)["when"] = map[string]any{"codesAny": "93655004"}
		}, []string{"$.rules[1].when.codesAny", "array"}},
		{"misspelled condition key", func(m map[string]any) {
			rule(m, 0)["when"] = map[string]any{"dermoscopyMelanomas": true}
		}, []string{"$.rules[0].when.dermoscopyMelanomas: unknown field"}},
		{"unknown pathway", func(m map[string]any) { rule(m, 2)["pathway"] = "urgent" }, []string{"$.rules[2].pathway"}},
		{"bad severity", func(m map[string]any) { get(m, "consent")["severity"] = "optional" }, []string{"$.consent.severity"}},
		{"missing version", func(m map[string]any) { delete(m, "version") }, []string{"$: version is required"}},
		{"unknown feature code", func(m map[string]any) {
			get(m, "checklist")["features"].([]any)[3].(map[string]any)["code"] = "diameter-6mm"
		}, []string{`$.checklist.features[3].code: unknown checklist feature "diameter-6mm"`}},
		{"duplicate rule id", func(m map[string]any) { rule(m, 3)["id"] = "nodular-melanoma" }, []string{`$.rules[3].id: rule id "nodular-melanoma" is already used at $.rules[2].id`}},
		{"rule id clashing with a photo rule", func(m map[string]any) { get(m, "consent")["id"] = "image-size" }, []string{`$.consent.id: rule id "image-size"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(bytes.NewReader(mutate(t, tc.change)))
			if err == nil {
				t.Fatal("Load accepted a bad rules file")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := Load(strings.NewReader(`{"version": `)); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("truncated file: err = %v", err)
	}
}

// An operator can change the defaults: a threshold of 4 and SLA of 5 days.
func TestLoadOperatorRules(t *testing.T) {
	b := mutate(t, func(m map[string]any) {
		m["version"] = "local-1"
		m["checklist"].(map[string]any)["threshold"] = 4
		m["pathways"].(map[string]any)["routine"].(map[string]any)["slaWorkingDays"] = 5
	})
	r, err := Load(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	ref := complete()
	ref.Checklist = true
	ref.Features = map[string]FeatureState{"change-in-size": Present, "oozing": Present}
	res := Evaluate(r, ref)
	if res.Pathway != Routine || res.SLAWorkingDays != 5 || res.RulesVersion != "local-1" {
		t.Errorf("score 3 under threshold 4: %+v", res)
	}
}
