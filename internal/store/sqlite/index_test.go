package sqlite

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
)

func TestStoredEntries(t *testing.T) {
	str := func(param, text string) search.Entry {
		return search.Entry{Param: param, Kind: search.String, Text: text, Exact: text}
	}
	id := search.Entry{Param: "_id", Kind: search.Token, Code: "p1"}
	gender := search.Entry{Param: "gender", Kind: search.Token, Code: "female"}
	tok := func(param, system, code string) search.Entry {
		return search.Entry{Param: param, Kind: search.Token, System: system, Code: code}
	}
	loinc := "http://loinc.org"
	qty := func(param string, v float64) search.Entry {
		return search.Entry{Param: param, Kind: search.Quantity, Num: v, NumLo: v - 0.5, NumHi: v + 0.5, System: "http://unitsofmeasure.org", Code: "/min"}
	}
	composite := func(param string, parts ...search.Entry) search.Entry {
		return search.Entry{Param: param, Kind: search.Composite, Parts: parts}
	}
	tests := []struct {
		name    string
		typ     string // Patient when empty
		entries []search.Entry
		want    []int // positions kept
	}{
		{"nothing to drop", "", []search.Entry{gender, str("family", "smith")}, []int{0, 1}},
		{"_id is read from the resource row", "", []search.Entry{id, gender}, []int{1}},
		{"name's family value is family's", "", []search.Entry{str("family", "smith"), str("name", "smith")}, []int{0}},
		{"name's own value stays", "", []search.Entry{str("family", "smith"), str("name", "jane smith")}, []int{0, 1}},
		{"phonetic is an alias of name", "", []search.Entry{str("name", "jane smith"), str("phonetic", "jane smith")}, []int{0}},
		{"a token with a string's value is no repeat", "", []search.Entry{{Param: "name", Kind: search.Token, Code: "x"}, str("family", "x")}, []int{0, 1}},
		{"telecom's number is phone's", "", []search.Entry{tok("phone", "", "01234 567890"), tok("telecom", "", "01234 567890")}, []int{0}},
		{"telecom's own value stays", "", []search.Entry{tok("phone", "", "01234 567890"), tok("telecom", "", "01234 000000")}, []int{0, 1}},
		{"combo-code's codes are code's and component-code's", "Observation", []search.Entry{
			tok("code", loinc, "85354-9"), tok("combo-code", loinc, "85354-9"), tok("combo-code", loinc, "8480-6"), tok("component-code", loinc, "8480-6"),
		}, []int{0, 3}},
		{"combo-code-value-quantity's pair is code-value-quantity's", "Observation", []search.Entry{
			composite("code-value-quantity", tok("code", loinc, "8867-4"), qty("value-quantity", 72)),
			composite("combo-code-value-quantity", tok("combo-code", loinc, "8867-4"), qty("combo-value-quantity", 72)),
			composite("combo-code-value-quantity", tok("combo-code", loinc, "8867-4"), qty("combo-value-quantity", 73)),
		}, []int{0, 2}},
		{"a token repeats only with every field equal", "Observation", []search.Entry{
			tok("code", loinc, "85354-9"), tok("combo-code", "http://snomed.info/sct", "85354-9"), {Param: "combo-code", Kind: search.Token, System: loinc, Code: "85354-9", Text: "blood pressure"},
		}, []int{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := tt.typ
			if typ == "" {
				typ = "Patient"
			}
			keep := storedEntries(typ, tt.entries)
			var got []int
			for i := range tt.entries {
				if keep.has(i) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("kept %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRowSignatures: each index table's row signature has a type for each
// column after the rowid and rid.
func TestRowSignatures(t *testing.T) {
	for _, table := range indexTables {
		if got, want := len(rowSignature[table]), len(insertColumns[table])-2; got != want {
			t.Errorf("%s: signature %q has %d types for %d columns", table, rowSignature[table], got, want)
		}
	}
}
