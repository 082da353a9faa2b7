package search

import (
	"math"
	"testing"
)

// ixNum is the entry DecimalRange gives for s.
func ixNum(t testing.TB, s string) Entry {
	v, lo, hi, err := DecimalRange(s)
	if err != nil {
		t.Fatal(err)
	}
	return Entry{Num: v, NumLo: lo, NumHi: hi}
}

func TestNumberEntries(t *testing.T) {
	params := []Param{{Code: "probability", URL: "u:prob", Type: Number, Base: []string{"RiskAssessment"}, Expression: "RiskAssessment.prediction.probability"}}
	runIndexCases(t, params, []indexCase{
		{"decimal keeps its written precision", `{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":1.10}]}`, []Entry{ixNum(t, "1.10")}},
		{"integer", `{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":3}]}`, []Entry{ixNum(t, "3")}},
		{"exponent", `{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":1e2}]}`, []Entry{ixNum(t, "1e2")}},
		{"range", `{"resourceType":"RiskAssessment","prediction":[{"probabilityRange":{"low":{"value":0.2},"high":{"value":0.4}}}]}`,
			[]Entry{{Num: 0.30000000000000004, NumLo: ixNum(t, "0.2").NumLo, NumHi: ixNum(t, "0.4").NumHi}}},
	})

	// The precision is the written one: 1.10 is [1.095, 1.105), 1.1 [1.05, 1.15).
	for s, want := range map[string][2]float64{"1.10": {1.095, 1.105}, "1.1": {1.05, 1.15}, "100": {99.5, 100.5}} {
		e := ixNum(t, s)
		if math.Abs(e.NumLo-want[0]) > 1e-12 || math.Abs(e.NumHi-want[1]) > 1e-12 {
			t.Errorf("%s covers [%v, %v), want %v", s, e.NumLo, e.NumHi, want)
		}
	}
}

func TestNumberBeyondFloatPrecision(t *testing.T) {
	ix := NewIndexer(NewRegistry([]Param{{Code: "probability", URL: "u:prob", Type: Number, Base: []string{"RiskAssessment"}, Expression: "RiskAssessment.prediction.probability"}}), ixBase)
	es, err := ix.Entries(ixDecode(t, `{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":66.899999999999991}]}`))
	if err != nil || len(es) != 1 {
		t.Fatalf("entries %v, %v", es, err)
	}
	if e := es[0]; !(e.NumLo <= e.Num && e.Num < e.NumHi) {
		t.Errorf("a value with more digits than a float64 covers an empty range: %+v", e)
	}
}
