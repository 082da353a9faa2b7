package search

import "testing"

func TestMatchComposite(t *testing.T) {
	loinc := "http://loinc.org"
	bp := func(code string, v float64) Entry {
		return Entry{Param: "code-value-quantity", Kind: Composite, Parts: []Entry{
			{Param: "code", Kind: Token, System: loinc, Code: code},
			{Param: "value-quantity", Kind: Quantity, Num: v, NumLo: v - 0.5, NumHi: v + 0.5, System: "http://unitsofmeasure.org", Code: "mm[Hg]"},
		}}
	}
	// systolic 120 and diastolic 80, as two elements
	es := []Entry{bp("8480-6", 120), bp("8462-4", 80)}
	runMatchCases(t, "Observation", []matchCase{
		{"code-value-quantity=" + loinc + "|8480-6$120", es, true},
		{"code-value-quantity=8480-6$gt100", es, true},
		{"code-value-quantity=8480-6$lt100", es, false},
		{"code-value-quantity=8480-6$80", es, false}, // parts of different elements never combine
		{"code-value-quantity=8462-4$80||mm[Hg]", es, true},
		{"code-value-quantity=8462-4$80||mg", es, false},
		{"code-value-quantity=http://snomed.info/sct|8480-6$120", es, false},
	})
}
