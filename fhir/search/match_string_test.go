package search

import "testing"

func strEntry(code, s string) Entry {
	return Entry{Param: code, Kind: String, Text: Normalize(s), Exact: s}
}

func TestMatchString(t *testing.T) {
	zoe := []Entry{strEntry("name", "Zoë"), strEntry("name", "O'Brien-Smith")}
	runMatchCases(t, "Patient", []matchCase{
		// default: case- and accent-insensitive, at the start
		{"name=zoe", zoe, true},
		{"name=ZOË", zoe, true},
		{"name=Zo", zoe, true},
		{"name=oe", zoe, false},
		{"name=o%20brien", zoe, true},
		{"name=obrien", zoe, false}, // punctuation is a word break, not nothing
		{"name=smith", zoe, false},
		{"name=brien", zoe, false},
		// :contains anywhere
		{"name:contains=brien", zoe, true},
		{"name:contains=SMI", zoe, true},
		{"name:contains=xyz", zoe, false},
		// :exact: the whole value, case and accents included
		{"name:exact=Zoë", zoe, true},
		{"name:exact=Zoe", zoe, false},
		{"name:exact=zoë", zoe, false},
		{"name:exact=Zo", zoe, false},
		// other parameters' entries do not count
		{"family=zoe", zoe, false},
		{"name=straße", []Entry{strEntry("name", "Strasse")}, true},
		{`name=a\,b`, []Entry{strEntry("name", "A, B")}, true},
	})
}
