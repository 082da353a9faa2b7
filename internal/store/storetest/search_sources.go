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
		// R4's Organization.phonetic is Organization.name, and name also
		// indexes the aliases: no value is left to another parameter.
		resource("Organization", "o", 0, eString("name", "Acme"), eString("name", "Jane Smith Ltd"), eString("phonetic", "Acme")),
	)
	orgPhonetic, ok := reg.Lookup("Organization", "phonetic")
	if !ok {
		t.Fatal("no Organization.phonetic")
	}
	across := func(text string) search.Predicate {
		return search.Predicate{Param: orgPhonetic, Value: search.Value{Kind: search.String, Text: search.Normalize(text), Exact: text}}
	}
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
		// Across types each type's values count under its own relations:
		// Patient's phonetic values are its names, Organization's are not
		// its aliases.
		{"phonetic across types", search.Query{Types: []string{"Organization", "Patient"}, Where: and(across("jane smith"))}, refs("Patient", "a")},
		{"phonetic across types, an organization's own", search.Query{Types: []string{"Organization", "Patient"}, Where: and(across("acme"))}, refs("Organization", "o")},
		{"phonetic missing across types", search.Query{Types: []string{"Organization", "Patient"}, Where: and(search.Predicate{Param: orgPhonetic, Missing: &missing})}, refs("Patient", "c")},
	})
}

// testSearchTokenSources: token parameters repeat each other too
// (search.TokenSources: Patient.telecom holds every phone and email,
// Observation's combo-code every code and component-code; composite ones
// by the same rule, combo-code-value-quantity's pairs), and a store
// may keep such a value once; every search on every one of those
// parameters still finds it, negates it, sorts on it and tells it missing,
// on one type and across several.
func testSearchTokenSources(t *testing.T, r store.Repository) {
	reg := search.Default()
	p := func(typ, code string) *search.Param {
		prm, ok := reg.Lookup(typ, code)
		if !ok {
			t.Fatalf("no %s.%s", typ, code)
		}
		return prm
	}
	tok := func(typ, code, value string) search.Predicate {
		return search.Predicate{Param: p(typ, code), Value: search.Value{Kind: search.Token, Code: value}}
	}
	loinc := "http://loinc.org"
	pair := func(param, code, value string) search.Entry {
		return search.Entry{Param: param, Kind: search.Composite, Parts: []search.Entry{
			eToken("code", loinc, code), eQuantity("value-quantity", value, sysUCUM, "/min", "/min")}}
	}
	commit(t, r,
		resource("Patient", "a", 0, eToken("phone", "", "0111"), eToken("telecom", "", "0111"), eToken("telecom", "", "0333")),
		resource("Patient", "b", 0, eToken("email", "", "b@example.org"), eToken("telecom", "", "b@example.org")),
		resource("Patient", "c", 0, eToken("gender", "", "female")),
		resource("Practitioner", "d", 0, eToken("phone", "", "0111"), eToken("telecom", "", "0111")),
		resource("Observation", "bp", 0, eToken("code", loinc, "85354-9"), eToken("combo-code", loinc, "85354-9"),
			eToken("combo-code", loinc, "8480-6"), eToken("component-code", loinc, "8480-6")),
		resource("Observation", "hr", 0, eToken("code", loinc, "8867-4"), eToken("combo-code", loinc, "8867-4"),
			pair("code-value-quantity", "8867-4", "72"), pair("combo-code-value-quantity", "8867-4", "72")),
		resource("Observation", "sys", 0, pair("component-code-value-quantity", "8480-6", "120"), pair("combo-code-value-quantity", "8480-6", "120")),
	)
	quantityPair := func(code, value string) search.Predicate {
		tok := tok("Observation", "combo-code", code)
		qty := qQuantity(param("combo-value-quantity", search.Quantity), search.Eq, value, "", "")
		return search.Predicate{Param: p("Observation", "combo-code-value-quantity"), Value: search.Value{Kind: search.Composite,
			Parts: []search.Value{tok.Value, qty.Value}}}
	}
	narrowPair := quantityPair("8480-6", "120")
	narrowPair.Param = p("Observation", "code-value-quantity")
	missing := true
	not := tok("Patient", "telecom", "0111")
	not.Modifier = ":not"
	runSearchCases(t, r, []searchCase{
		{"telecom finds a phone", search.Query{Type: "Patient", Where: and(tok("Patient", "telecom", "0111"))}, refs("Patient", "a")},
		{"telecom finds an email", search.Query{Type: "Patient", Where: and(tok("Patient", "telecom", "b@example.org"))}, refs("Patient", "b")},
		{"telecom's own value", search.Query{Type: "Patient", Where: and(tok("Patient", "telecom", "0333"))}, refs("Patient", "a")},
		{"phone alone", search.Query{Type: "Patient", Where: and(tok("Patient", "phone", "b@example.org"))}, nil},
		{"telecom :not", search.Query{Type: "Patient", Where: and(not)}, refs("Patient", "b", "c")},
		{"telecom missing", search.Query{Type: "Patient", Where: and(search.Predicate{Param: p("Patient", "telecom"), Missing: &missing})}, refs("Patient", "c")},
		{"sorted by telecom", search.Query{Type: "Patient", Sort: []search.SortKey{{Param: p("Patient", "telecom")}}}, refs("Patient", "c", "a", "b")},
		{"telecom across types", search.Query{Types: []string{"Patient", "Practitioner"}, Where: and(tok("Patient", "telecom", "0111"))},
			append(refs("Patient", "a"), refs("Practitioner", "d")...)},
		{"combo-code finds a code", search.Query{Type: "Observation", Where: and(tok("Observation", "combo-code", "8867-4"))}, refs("Observation", "hr")},
		{"combo-code finds a component's code", search.Query{Type: "Observation", Where: and(tok("Observation", "combo-code", "8480-6"))}, refs("Observation", "bp")},
		{"code alone", search.Query{Type: "Observation", Where: and(tok("Observation", "code", "8480-6"))}, nil},
		{"combo-code-value-quantity finds code-value-quantity's pair", search.Query{Type: "Observation", Where: and(quantityPair("8867-4", "72"))}, refs("Observation", "hr")},
		{"combo-code-value-quantity finds a component's pair", search.Query{Type: "Observation", Where: and(quantityPair("8480-6", "120"))}, refs("Observation", "sys")},
		{"code-value-quantity alone", search.Query{Type: "Observation", Where: and(narrowPair)}, nil},
	})
}
