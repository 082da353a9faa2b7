package search

import "testing"

func qtyEntry(num float64, system, code, unit string) Entry {
	return Entry{Param: "value-quantity", Kind: Quantity, Num: num, NumLo: num - 0.05, NumHi: num + 0.05, System: system, Code: code, Text: unit}
}

func TestMatchQuantity(t *testing.T) {
	ucum := "http://unitsofmeasure.org"
	mg := []Entry{qtyEntry(5.4, ucum, "mg", "milligram")}
	unitOnly := []Entry{qtyEntry(5.4, "", "", "mg")}
	runMatchCases(t, "Observation", []matchCase{
		{"value-quantity=5.4|" + ucum + "|mg", mg, true},
		{"value-quantity=5.4|http://other|mg", mg, false}, // system must match
		{"value-quantity=5.4|" + ucum + "|g", mg, false},  // no unit conversion
		{"value-quantity=5.4||mg", mg, true},              // code in any system
		{"value-quantity=5.4||mg", unitOnly, true},        // or the unit as written
		{"value-quantity=5.4||milligram", mg, true},       //
		{"value-quantity=5.4|" + ucum + "|mg", unitOnly, false},
		{"value-quantity=5.4", mg, true}, // any unit
		{"value-quantity=5.4", unitOnly, true},
		{"value-quantity=5.5||mg", mg, false},
		{"value-quantity=5||mg", mg, true},   // "5" covers [4.5, 5.5)
		{"value-quantity=gt5||mg", mg, true}, // 5.4 is greater than exactly 5 (R4)
		{"value-quantity=gt5.3||mg", mg, true},
		{"value-quantity=gt5.4||mg", mg, false},
		{"value-quantity=sa5.3||mg", mg, true},
		{"value-quantity=eb5.5||mg", mg, true},
		{"value-quantity=le5.4|" + ucum + "|mg", mg, true},
		{"value-quantity=ap5||mg", mg, true},
		{"value-quantity=ap4.8||mg", mg, false}, // 4.8 ± 0.48 stops short of 5.4
		{"value-quantity=ne5.4||mg", mg, false},
	})
}
