package mongo

import (
	"reflect"
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
)

func TestJoinKey(t *testing.T) {
	cases := [][]string{
		{"http://loinc.org", "8302-2"},
		{"", "bare"},
		{"sys", ""},
		{"a\x01b", "c"}, // a separator inside a part
		{"a", "b\x01c"}, // ... must not give the same key as this
		{"\x02", "\x02\x01"},
		{"x", "y", "z"},
	}
	seen := map[string][]string{}
	for _, parts := range cases {
		k := joinKey(parts...)
		if got := splitKey(k); !slices.Equal(got, parts) {
			t.Errorf("splitKey(joinKey(%q)) = %q", parts, got)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("joinKey(%q) = joinKey(%q)", parts, other)
		}
		seen[k] = parts
	}
}

func TestFieldName(t *testing.T) {
	for code, want := range map[string]string{
		"birthdate": "birthdate", "_lastUpdated": "_lastUpdated", "value-quantity": "value-quantity",
		"a.b": "a%2Eb", "$x": "%24x", "50%": "50%25",
	} {
		if got := fieldName(code); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", code, got, want)
		}
	}
}

// TestBuildIndex checks what a resource's entries become: values by class,
// string repeats left to the narrower parameter (as the SQLite backend
// does), sort keys over every parameter a value counts for, and the
// parameters whose several values need deciding in Go.
func TestBuildIndex(t *testing.T) {
	str := func(p, v string) search.Entry {
		return search.Entry{Param: p, Kind: search.String, Text: search.Normalize(v), Exact: v}
	}
	date := func(lo, hi int64) search.Entry {
		return search.Entry{Param: "birthdate", Kind: search.Date, Lo: lo, Hi: hi}
	}
	d := buildIndex("Patient", []search.Entry{
		str("family", "Smith"), str("given", "Jane"), str("name", "Smith"), str("name", "Jane"), str("name", "Jane Smith"),
		str("phonetic", "Smith"),
		{Param: "gender", Kind: search.Token, System: "http://hl7.org/fhir/administrative-gender", Code: "female"},
		{Param: "general-practitioner", Kind: search.Reference, RefType: "Practitioner", RefID: "pr-1"},
		date(10, 20), date(5, 30),
	})
	// name keeps only the value no narrower parameter has; phonetic (an
	// alias of name) keeps none.
	if got := d.X["name"][clNorm]; !slices.Equal(got, []any{"jane smith"}) {
		t.Errorf("x.name.n = %v, want [jane smith]", got)
	}
	if _, ok := d.X["phonetic"]; ok {
		t.Errorf("x.phonetic kept: %v", d.X["phonetic"])
	}
	if got := d.X["gender"][clSysCode]; !slices.Equal(got, []any{joinKey("http://hl7.org/fhir/administrative-gender", "female")}) {
		t.Errorf("x.gender.sc = %q", got)
	}
	if !slices.Equal(d.Refs, []string{"Practitioner/pr-1"}) {
		t.Errorf("refs = %v", d.Refs)
	}
	// name sorts on family and given too; phonetic on name's values.
	for param, want := range map[string]sortKey{
		"name":      {A: "jane", D: "smith"},
		"phonetic":  {A: "jane", D: "smith"},
		"family":    {A: "smith", D: "smith"},
		"birthdate": {A: int64(5), D: int64(10)},
	} {
		if got := d.SK[param]; got != want {
			t.Errorf("sk.%s = %+v, want %+v", param, got, want)
		}
	}
	if !slices.Equal(d.MV, []string{"birthdate"}) || len(d.VX) != 2 {
		t.Errorf("mv = %v, vx has %d entries; want [birthdate] and its 2", d.MV, len(d.VX))
	}
	if e := d.VX[0].entry(); !reflect.DeepEqual(e, date(10, 20)) {
		t.Errorf("vx round trip: %+v", e)
	}
}
