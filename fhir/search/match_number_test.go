package search

import "testing"

func numEntry(code, s string) []Entry {
	v, lo, hi, err := DecimalRange(s)
	if err != nil {
		panic(err)
	}
	return []Entry{{Param: code, Kind: Number, Num: v, NumLo: lo, NumHi: hi}}
}

func TestMatchNumber(t *testing.T) {
	n := func(s string) []Entry { return numEntry("probability", s) }
	runMatchCases(t, "RiskAssessment", []matchCase{
		// Entries are ranges at their written precision ("100.4" is
		// [100.35, 100.45)), compared with the search value's by the prefix
		// table. eq: the search range contains the entry's.
		{"probability=100", n("100"), true},
		{"probability=100", n("100.4"), true},
		{"probability=100", n("99.5"), false}, // [99.45, 99.55) pokes out below
		{"probability=100", n("100.5"), false},
		{"probability=100", n("99.4"), false},
		{"probability=100.00", n("100.001"), true},
		{"probability=100.00", n("100"), false}, // "100" is less precise than asked
		{"probability=1e2", n("140"), true},
		{"probability=1e2", n("150"), false},
		{"probability=0.5", n("0.54"), true},
		{"probability=-3", n("-3.2"), true},
		// ne is eq's complement
		{"probability=ne100", n("100.4"), false},
		{"probability=ne100", n("101"), true},
		// gt/lt: the range above/below the whole search range overlaps
		{"probability=gt100", n("100"), false},
		{"probability=gt100", n("100.1"), true}, // greater than exactly 100 (R4)
		{"probability=gt100", n("100.5"), true},
		{"probability=gt100", n("101"), true},
		{"probability=gt100.0", n("100.1"), true}, // a finer search value
		{"probability=lt100", n("99.9"), true},    // less than exactly 100
		{"probability=lt100", n("99"), true},
		// ge/le add containment
		{"probability=ge100", n("100"), true},
		{"probability=ge100", n("99.9"), false},
		{"probability=ge100", n("99.4"), false},
		{"probability=le100", n("100.1"), false},
		{"probability=le100", n("100"), true},
		{"probability=le100", n("101"), false},
		// sa/eb: wholly after/before the search range
		{"probability=sa100", n("101"), true}, // [100.5, 101.5)
		{"probability=sa100", n("100.5"), false},
		{"probability=eb100", n("99"), true}, // [98.5, 99.5)
		{"probability=eb100", n("99.5"), false},
		// ap: overlaps 100 ± 10%, [90, 110)
		{"probability=ap100", n("90"), true},
		{"probability=ap100", n("110"), true}, // [109.5, 110.5) overlaps
		{"probability=ap100", n("89"), false},
		{"probability=ap100", n("111"), false},
		{"probability=ap0", n("0.4"), true}, // zero: the precision range alone, [-0.5, 0.5)
		{"probability=ap0", n("1"), false},
	})
}
