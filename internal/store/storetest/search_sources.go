package storetest

import (
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchStringSources: a store may keep a string value once when
// several parameters index it (search.Sources: Patient.name repeats family
// and given, phonetic repeats name), but every search on every one of
// those parameters still finds it, sorts on it and tells it missing.
func testSearchStringSources(t *testing.T, r store.Repository) {
	reg := search.Default()
	p := func(code string) *search.Param {
		prm, ok := reg.Lookup("Patient", code)
		if !ok {
			t.Fatalf("no Patient.%s", code)
		}
		return prm
	}
	str := func(code, text string) search.Predicate {
		return search.Predicate{Param: p(code), Value: search.Value{Kind: search.String, Text: search.Normalize(text), Exact: text}}
	}
	names := func(family, given string) []search.Entry {
		return []search.Entry{eString("family", family), eString("given", given),
			eString("name", family), eString("name", given), eString("name", given+" "+family),
			eString("phonetic", family), eString("phonetic", given), eString("phonetic", given+" "+family)}
	}
	commit(t, r,
		resource("Patient", "a", 0, names("Smith", "Jane")...),
		resource("Patient", "b", 0, names("Jones", "Ann")...),
		resource("Patient", "c", 0, eString("address", "1 High St"), eString("address", "Ipswich"), eString("address-city", "Ipswich")),
	)
	exact := str("name", "Smith")
	exact.Modifier = ":exact"
	missing := true
	runSearchCases(t, r, []searchCase{
		{"name finds a family", search.Query{Type: "Patient", Where: and(str("name", "smi"))}, refs("Patient", "a")},
		{"name finds a given", search.Query{Type: "Patient", Where: and(str("name", "ann"))}, refs("Patient", "b")},
		{"name finds the whole name", search.Query{Type: "Patient", Where: and(str("name", "jane smith"))}, refs("Patient", "a")},
		{"name :exact", search.Query{Type: "Patient", Where: and(exact)}, refs("Patient", "a")},
		{"phonetic", search.Query{Type: "Patient", Where: and(str("phonetic", "jo"))}, refs("Patient", "b")},
		{"family alone", search.Query{Type: "Patient", Where: and(str("family", "jane"))}, nil},
		{"address finds its city", search.Query{Type: "Patient", Where: and(str("address", "ipsw"))}, refs("Patient", "c")},
		{"name missing", search.Query{Type: "Patient", Where: and(search.Predicate{Param: p("name"), Missing: &missing})}, refs("Patient", "c")},
		{"sorted by name", search.Query{Type: "Patient", Sort: []search.SortKey{{Param: p("name")}}}, refs("Patient", "c", "b", "a")},
		{"sorted by phonetic descending", search.Query{Type: "Patient", Sort: []search.SortKey{{Param: p("phonetic"), Descending: true}}}, refs("Patient", "a", "b", "c")},
	})
}
