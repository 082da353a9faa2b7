package triage

import (
	"encoding/json"
	"testing"
)

func overridden() Result {
	ref := complete()
	ref.Checklist = true
	ref.Features = map[string]FeatureState{"change-in-size": Present, "irregular-shape": Absent, "irregular-colour": Absent,
		"diameter-7mm": Absent, "inflammation": Absent, "oozing": Absent, "change-in-sensation": Absent}
	ref.Consent = false
	ref.Override = &Override{Pathway: SuspectedCancer, Reason: "clinical-concern"}
	return Evaluate(Default(), ref)
}

func TestExtension(t *testing.T) {
	res := overridden()
	ext := res.Extension()
	if ext["url"] != ExtensionTriageResult {
		t.Fatalf("url %v", ext["url"])
	}
	byURL := map[string][]map[string]any{}
	for _, e := range ext["extension"].([]any) {
		m := e.(map[string]any)
		byURL[m["url"].(string)] = append(byURL[m["url"].(string)], m)
	}
	if c := byURL["pathway"][0]["valueCoding"].(map[string]any); c["code"] != SuspectedCancer || c["system"] != SystemPathway {
		t.Errorf("pathway %v", c)
	}
	if byURL["score"][0]["valueInteger"] != 2 {
		t.Errorf("score %v", byURL["score"])
	}
	if len(byURL["reason"]) != 1 || byURL["reason"][0]["valueCoding"].(map[string]any)["code"] != "override" {
		t.Errorf("override not in reasons: %v", byURL["reason"])
	}
	if len(byURL["missing"]) != 1 || byURL["missing"][0]["valueCoding"].(map[string]any)["code"] != "consent" {
		t.Errorf("missing %v", byURL["missing"])
	}
	if byURL["rules"][0]["valueString"] != Default().Version {
		t.Errorf("rules version %v", byURL["rules"])
	}
	// Without a checklist there is no score.
	noChecklist := Evaluate(Default(), complete()).Extension()
	for _, e := range noChecklist["extension"].([]any) {
		if e.(map[string]any)["url"] == "score" {
			t.Error("score present without a checklist")
		}
	}
}

func TestParameters(t *testing.T) {
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name         string            `json:"name"`
			ValueCoding  map[string]string `json:"valueCoding"`
			ValueCode    string            `json:"valueCode"`
			ValueInteger *int              `json:"valueInteger"`
			ValueBoolean *bool             `json:"valueBoolean"`
			ValueString  string            `json:"valueString"`
			Part         []struct {
				Name        string            `json:"name"`
				ValueCoding map[string]string `json:"valueCoding"`
				ValueString string            `json:"valueString"`
				ValueCode   string            `json:"valueCode"`
			} `json:"part"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(overridden().Parameters(), &p); err != nil {
		t.Fatal(err)
	}
	if p.ResourceType != "Parameters" {
		t.Fatalf("resourceType %q", p.ResourceType)
	}
	seen := map[string]int{}
	for _, q := range p.Parameter {
		seen[q.Name]++
		switch q.Name {
		case "pathway":
			if q.ValueCoding["code"] != SuspectedCancer {
				t.Errorf("pathway %v", q.ValueCoding)
			}
		case "priority":
			if q.ValueCode != "asap" {
				t.Errorf("priority %q", q.ValueCode)
			}
		case "score":
			if *q.ValueInteger != 2 {
				t.Errorf("score %d", *q.ValueInteger)
			}
		case "reason":
			if len(q.Part) != 2 || q.Part[0].ValueCoding["code"] != "override" || q.Part[1].ValueString == "" {
				t.Errorf("reason %+v", q.Part)
			}
		case "missing":
			if len(q.Part) != 3 || q.Part[0].ValueCoding["code"] != "consent" || q.Part[2].ValueCode != Required {
				t.Errorf("missing %+v", q.Part)
			}
		case "slaWorkingDays":
			if *q.ValueInteger != 2 {
				t.Errorf("sla %d", *q.ValueInteger)
			}
		case "overridden":
			if !*q.ValueBoolean {
				t.Error("overridden false")
			}
		case "overrideReason":
			if q.ValueCoding["code"] != "clinical-concern" || q.ValueCoding["system"] != SystemOverrideReason {
				t.Errorf("overrideReason %v", q.ValueCoding)
			}
		case "recommendedPathway":
			if q.ValueCoding["code"] != Routine {
				t.Errorf("recommendedPathway %v", q.ValueCoding)
			}
		}
	}
	for _, name := range []string{"pathway", "priority", "score", "reason", "missing", "slaWorkingDays", "overridden", "overrideReason", "recommendedPathway", "rulesVersion"} {
		if seen[name] != 1 {
			t.Errorf("parameter %s appears %d times", name, seen[name])
		}
	}
}
