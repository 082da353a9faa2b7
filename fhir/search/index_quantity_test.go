package search

import (
	"math"
	"testing"
)

func TestQuantityEntries(t *testing.T) {
	q := func(s, system, code, unit string) Entry {
		e := ixNum(t, s)
		e.System, e.Code, e.Text = system, code, unit
		return e
	}
	const ucum = "http://unitsofmeasure.org"
	params := []Param{{Code: "value-quantity", URL: "u:vq", Type: Quantity, Base: []string{"Observation"},
		Expression: "(Observation.value as Quantity) | (Observation.value as SampledData)"}}
	runIndexCases(t, params, []indexCase{
		{"quantity", `{"resourceType":"Observation","valueQuantity":{"value":185,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"}}`,
			[]Entry{q("185", ucum, "[lb_av]", "lbs")}},
		{"decimal precision kept", `{"resourceType":"Observation","valueQuantity":{"value":5.40,"unit":"mmol/L"}}`,
			[]Entry{q("5.40", "", "", "mmol/L")}},
		{"comparator <", `{"resourceType":"Observation","valueQuantity":{"value":5,"comparator":"<","system":"http://unitsofmeasure.org","code":"mg"}}`,
			[]Entry{{Num: 5, NumLo: -math.MaxFloat64, NumHi: 5, System: ucum, Code: "mg"}}},
		{"comparator >=", `{"resourceType":"Observation","valueQuantity":{"value":5,"comparator":">=","code":"mg"}}`,
			[]Entry{{Num: 5, NumLo: 4.5, NumHi: math.MaxFloat64, Code: "mg"}}},
		{"no value", `{"resourceType":"Observation","valueQuantity":{"unit":"mg"}}`, nil},
		{"sampled data skipped", `{"resourceType":"Observation","valueSampledData":{"origin":{"value":2048},"period":10,"dimensions":1,"data":"1 2 3"}}`, nil},
	})

	runIndexCases(t, []Param{{Code: "amount", URL: "u:amount", Type: Quantity, Base: []string{"ChargeItem"}, Expression: "ChargeItem.priceOverride"}}, []indexCase{
		{"money", `{"resourceType":"ChargeItem","priceOverride":{"value":40.00,"currency":"EUR"}}`, []Entry{q("40.00", "urn:iso:std:iso:4217", "EUR", "")}},
	})

	runIndexCases(t, []Param{{Code: "context-quantity", URL: "u:cq", Type: Quantity, Base: []string{"Library"},
		Expression: "(Library.useContext.value as Quantity) | (Library.useContext.value as Range)"}}, []indexCase{
		{"range", `{"resourceType":"Library","useContext":[{"code":{"code":"age"},"valueRange":{"low":{"value":18,"unit":"a","system":"http://unitsofmeasure.org","code":"a"},"high":{"value":65,"code":"a"}}}]}`,
			[]Entry{{Num: 41.5, NumLo: 17.5, NumHi: 65.5, System: ucum, Code: "a", Text: "a"}}},
		{"range open above", `{"resourceType":"Library","useContext":[{"code":{"code":"age"},"valueRange":{"low":{"value":18,"code":"a"}}}]}`,
			[]Entry{{Num: 18, NumLo: 17.5, NumHi: math.MaxFloat64, Code: "a"}}},
		{"range open below", `{"resourceType":"Library","useContext":[{"code":{"code":"age"},"valueRange":{"high":{"value":2,"code":"a"}}}]}`,
			[]Entry{{Num: 2, NumLo: -math.MaxFloat64, NumHi: 2.5, Code: "a"}}},
		{"age", `{"resourceType":"Library","useContext":[{"code":{"code":"age"},"valueQuantity":{"value":3,"code":"mo"}}]}`,
			[]Entry{q("3", "", "mo", "")}},
	})
}
