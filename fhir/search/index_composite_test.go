package search

import (
	"fmt"
	"strings"
	"testing"
)

func ixCompositeParams() []Param {
	return []Param{
		{Code: "code", URL: "u:code", Type: Token, Base: []string{"Observation"}, Expression: "Observation.code"},
		{Code: "value-quantity", URL: "u:vq", Type: Quantity, Base: []string{"Observation"}, Expression: "Observation.value.as(Quantity)"},
		{Code: "value-concept", URL: "u:vc", Type: Token, Base: []string{"Observation"}, Expression: "Observation.value.as(CodeableConcept)"},
		{Code: "combo-code-value-quantity", URL: "u:combo", Type: Composite, Base: []string{"Observation"},
			Expression: "Observation | Observation.component",
			Components: []Component{{Definition: "u:code", Expression: "code"}, {Definition: "u:vq", Expression: "value.as(Quantity)"}}},
		{Code: "code-value-concept", URL: "u:cvc", Type: Composite, Base: []string{"Observation"},
			Expression: "Observation",
			Components: []Component{{Definition: "u:code", Expression: "code"}, {Definition: "u:vc", Expression: "value.as(CodeableConcept)"}}},
		{Code: "broken", URL: "u:broken", Type: Composite, Base: []string{"Observation"},
			Expression: "Observation",
			Components: []Component{{Definition: "u:code", Expression: "code"}, {Definition: "u:unknown", Expression: "value"}}},
	}
}

func TestCompositeEntries(t *testing.T) {
	ix := NewIndexer(NewRegistry(ixCompositeParams()), ixBase)
	r := ixDecode(t, `{"resourceType":"Observation",
		"code":{"coding":[{"system":"http://loinc.org","code":"85354-9"},{"system":"http://snomed.info/sct","code":"75367002"}]},
		"component":[
			{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":107,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":60,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
			{"code":{"coding":[{"system":"http://loinc.org","code":"9999-9"}]}}]}`)
	got, err := ix.Entries(r)
	if err != nil {
		t.Fatal(err)
	}
	var combos []string
	for _, e := range got {
		if e.Kind != Composite {
			continue
		}
		if e.Param != "combo-code-value-quantity" {
			t.Errorf("unexpected composite %+v", e)
			continue
		}
		if len(e.Parts) != 2 || e.Parts[0].Param != "code" || e.Parts[0].Kind != Token || e.Parts[1].Param != "value-quantity" || e.Parts[1].Kind != Quantity {
			t.Errorf("parts %+v", e.Parts)
			continue
		}
		combos = append(combos, fmt.Sprintf("%s|%s=%v%s", e.Parts[0].System, e.Parts[0].Code, e.Parts[1].Num, e.Parts[1].Code))
	}
	// The Observation itself has no value: only its components combine;
	// the component without a value yields nothing.
	want := "http://loinc.org|8462-4=60mm[Hg] http://loinc.org|8480-6=107mm[Hg]"
	if g := strings.Join(combos, " "); g != want {
		t.Errorf("composites %s, want %s", g, want)
	}
}

func TestCompositeCartesian(t *testing.T) {
	ix := NewIndexer(NewRegistry(ixCompositeParams()), ixBase)
	codings := func(n int, sys string) string {
		var b []string
		for i := range n {
			b = append(b, fmt.Sprintf(`{"system":%q,"code":"c%d"}`, sys, i))
		}
		return `{"coding":[` + strings.Join(b, ",") + `]}`
	}
	count := func(n, m int) int {
		r := ixDecode(t, `{"resourceType":"Observation","code":`+codings(n, "a")+`,"valueCodeableConcept":`+codings(m, "b")+`}`)
		got, err := ix.Entries(r)
		if err != nil {
			t.Fatal(err)
		}
		c := 0
		for _, e := range got {
			if e.Param == "code-value-concept" {
				if len(e.Parts) != 2 || e.Parts[0].System != "a" || e.Parts[1].System != "b" {
					t.Fatalf("parts %+v", e.Parts)
				}
				c++
			}
		}
		return c
	}
	if c := count(2, 3); c != 6 {
		t.Errorf("2 x 3 codings gave %d composites, want 6", c)
	}
	if c := count(30, 30); c != maxCompositeEntries {
		t.Errorf("30 x 30 codings gave %d composites, want the cap %d", c, maxCompositeEntries)
	}
}
