package storetest

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchGraph checks what crosses resources: chains, _has, system
// searches over several types and compartments.
func testSearchGraph(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	pat := func(ids ...string) []string { return refs("Patient", ids...) }
	sr := func(ids ...string) []string { return refs("ServiceRequest", ids...) }
	typed := func(typ, name string, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Type: typ, Where: and(ps...)}, want}
	}
	system := func(name string, types []string, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Types: types, Where: and(ps...)}, want}
	}
	compartment := func(name, typ, owner, id string, params []string, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Type: typ, Where: and(ps...),
			Compartment: &search.Compartment{Type: owner, ID: id, Params: params}}, want}
	}
	runSearchCases(t, r, []searchCase{
		// chains
		typed("ServiceRequest", "chain to string", sr("sr-2", "sr-4"),
			chain(pSubject, "Patient", qString(pName, "smith"))),
		typed("ServiceRequest", "chain skips deleted targets", sr("sr-2"),
			chain(pSubject, "Patient", qCode(pGender, "male"))),
		typed("ServiceRequest", "chain two levels", sr("sr-1", "sr-3"),
			chain(pSubject, "Patient", chain(pOrg, "Organization", qString(pName, "riverside")))),
		typed("ServiceRequest", "chain two levels, second untyped", sr("sr-2"),
			chain(pSubject, "Patient", chain(pOrg, "", qString(pName, "adamson")))),
		typed("ServiceRequest", "chain untyped reaches every target type", sr("sr-1", "sr-2", "sr-3"),
			chain(pRequester, "", qString(pName, "ada"))),
		typed("ServiceRequest", "chain typed", sr("sr-1", "sr-3"),
			chain(pRequester, "Practitioner", qString(pName, "ada"))),
		typed("ServiceRequest", "chain to :missing", sr("sr-4"),
			chain(pSubject, "Patient", qMissing(pBirthdate, true))),
		typed("ServiceRequest", "chain to system|", sr("sr-1", "sr-2", "sr-4"),
			chain(pSubject, "Patient", qSystemCode(pIdentifier, sysNHS, ""))),
		typed("ServiceRequest", "chain AND plain", sr("sr-1", "sr-3"),
			qCode(pStatus, "active"), chain(pSubject, "Patient", qCode(pGender, "female"))),
		typed("Media", "chain two levels to a date", refs("Media", "med-1", "med-2", "med-3"),
			chain(pBasedOn, "ServiceRequest", chain(pSubject, "Patient", qDate(pBirthdate, search.Eq, years(1970))))),
		typed("DiagnosticReport", "chain two levels, deleted referrer excluded", refs("DiagnosticReport", "dr-1"),
			chain(pBasedOn, "ServiceRequest", chain(pRequester, "Practitioner", qString(pName, "ada")))),
		typed("DiagnosticReport", "chain matches nothing", []string{},
			chain(pBasedOn, "ServiceRequest", qCode(pStatus, "revoked"))),

		// _has
		typed("Patient", "_has", pat("pat-1", "pat-3"),
			has("ServiceRequest", pSubject, qCode(pStatus, "active"))),
		typed("Patient", "_has ignores deleted referrers", pat("pat-1"),
			has("DiagnosticReport", pSubject, qCode(pStatus, "final"))),
		typed("Patient", "_has nested", pat("pat-1"),
			has("ServiceRequest", pSubject, has("DiagnosticReport", pBasedOn, qCode(pStatus, "final")))),
		typed("Organization", "_has nested two levels up", refs("Organization", "org-1"),
			has("Patient", pOrg, has("ServiceRequest", pSubject, qCode(pCode, "tele-derm")))),
		typed("Practitioner", "_has live referrer of a deleted patient", refs("Practitioner", "pr-1", "pr-2"),
			has("ServiceRequest", pRequester, qCode(pStatus, "active"))),
		typed("Patient", "_has to a quantity", pat("pat-1"),
			has("Observation", pSubject, qQuantity(pValueQty, search.Gt, "70", sysUCUM, "kg"))),
		typed("Patient", "_has only references of the searched type", []string{},
			has("Observation", pSubject, qMissing(pValueQty, true))),
		typed("Patient", "_has then chain", pat("pat-1", "pat-3"),
			has("ServiceRequest", pSubject, chain(pRequester, "Practitioner", qString(pName, "ada")))),
		typed("Patient", "_has AND plain", pat("pat-3"),
			has("ServiceRequest", pSubject, qCode(pStatus, "active")), qCode(pIdentifier, "X-1")),

		// several types
		system("system search over listed types", []string{"Practitioner", "Organization"},
			[]string{"Organization/org-2", "Practitioner/pr-1"}, qString(pName, "ada")),
		system("system search over all types", nil,
			[]string{"Organization/org-2", "Practitioner/pr-1"}, qString(pName, "ada")),
		system("system search, other types have the param", []string{"Patient", "Practitioner"},
			pat("pat-2", "pat-4", "pat-7"), qString(pName, "smith")),
		system("system search by token", nil, pat("pat-3", "pat-4"), qCode(pIdentifier, "X-1")),
		system("system search skips deleted", nil, refs("DiagnosticReport", "dr-1"), qCode(pStatus, "final")),
		system("system search, one type, no predicates", []string{"Practitioner"}, refs("Practitioner", "pr-1", "pr-2")),
		system("system search, type without matches", []string{"Patient"}, []string{}, qString(pName, "ada")),
		system("system search with _has", nil, refs("Practitioner", "pr-1", "pr-2"),
			has("ServiceRequest", pRequester, qCode(pStatus, "active"))),
		system("system search with a chain", []string{"ServiceRequest", "Media"},
			[]string{"ServiceRequest/sr-2", "ServiceRequest/sr-4", "Media/med-3"},
			chain(pSubject, "Patient", qString(pName, "smith"))),

		// compartments
		compartment("compartment", "Observation", "Patient", "pat-1", []string{"subject", "performer"},
			refs("Observation", "obs-1", "obs-2")),
		compartment("compartment of another patient", "Observation", "Patient", "pat-2", []string{"subject", "performer"},
			refs("Observation", "obs-3", "obs-5")),
		compartment("compartment AND predicate", "ServiceRequest", "Patient", "pat-1", []string{"subject", "performer", "requester"},
			sr("sr-1"), qCode(pStatus, "active")),
		compartment("compartment skips deleted", "DiagnosticReport", "Patient", "pat-2", []string{"subject"},
			refs("DiagnosticReport", "dr-2")),
		compartment("compartment of a practitioner", "ServiceRequest", "Practitioner", "pr-1", []string{"requester", "performer"},
			sr("sr-1", "sr-3")),
		compartment("compartment only through its params", "DiagnosticReport", "Practitioner", "pr-2", []string{"subject"},
			[]string{}),
	})
}

// includeCase is a search and what it matches and brings in.
type includeCase struct {
	name         string
	q            search.Query
	want         []string // matches, in order
	wantIncluded []string // included, in any order
}

func testSearchInclude(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	inc := func(source string, p *search.Param) search.Include {
		return search.Include{SourceType: source, Param: p}
	}
	iterate := func(i search.Include) search.Include { i.Iterate = true; return i }
	wildcard := func(source string) search.Include { return search.Include{SourceType: source, Wildcard: true} }
	sr1 := and(qRef(pSubject, "Patient", "pat-1"))
	active := and(qCode(pStatus, "active"))
	cases := []includeCase{
		{"include", search.Query{Type: "ServiceRequest", Where: sr1,
			Include: []search.Include{inc("ServiceRequest", pSubject), inc("ServiceRequest", pRequester)}},
			[]string{"ServiceRequest/sr-1"}, []string{"Patient/pat-1", "Practitioner/pr-1"}},
		{"include without iterate stays one level", search.Query{Type: "ServiceRequest", Where: sr1,
			Include: []search.Include{inc("ServiceRequest", pSubject), inc("Patient", pOrg)}},
			[]string{"ServiceRequest/sr-1"}, []string{"Patient/pat-1"}},
		{"include iterate reaches a second level", search.Query{Type: "ServiceRequest", Where: sr1,
			Include: []search.Include{inc("ServiceRequest", pSubject), iterate(inc("Patient", pOrg))}},
			[]string{"ServiceRequest/sr-1"}, []string{"Organization/org-1", "Patient/pat-1"}},
		{"include skips deleted targets, each target once", search.Query{Type: "ServiceRequest", Where: active,
			Include: []search.Include{inc("ServiceRequest", pSubject), inc("ServiceRequest", pRequester)}},
			refs("ServiceRequest", "sr-1", "sr-3", "sr-5"),
			[]string{"Patient/pat-1", "Patient/pat-3", "Practitioner/pr-1", "Practitioner/pr-2"}},
		{"include target type", search.Query{Type: "ServiceRequest", Where: and(qMissing(pRequester, false)),
			Include: []search.Include{{SourceType: "ServiceRequest", Param: pRequester, TargetType: "Organization"}}},
			refs("ServiceRequest", "sr-1", "sr-2", "sr-3", "sr-5"), []string{"Organization/org-2"}},
		{"include of another source type brings nothing", search.Query{Type: "ServiceRequest", Where: sr1,
			Include: []search.Include{inc("Media", pSubject)}},
			[]string{"ServiceRequest/sr-1"}, []string{}},
		{"revinclude", search.Query{Type: "ServiceRequest", Where: sr1,
			RevInclude: []search.Include{inc("Media", pBasedOn), inc("DiagnosticReport", pBasedOn)}},
			[]string{"ServiceRequest/sr-1"}, []string{"DiagnosticReport/dr-1", "Media/med-1", "Media/med-2"}},
		{"revinclude skips deleted sources", search.Query{Type: "ServiceRequest", Where: and(qRef(pSubject, "Patient", "pat-2")),
			RevInclude: []search.Include{inc("DiagnosticReport", pBasedOn)}},
			[]string{"ServiceRequest/sr-2"}, []string{"DiagnosticReport/dr-2"}},
		{"revinclude iterate", search.Query{Type: "Patient", Where: and(qSystemCode(pIdentifier, sysNHS, "9434765919")),
			RevInclude: []search.Include{inc("ServiceRequest", pSubject),
				iterate(inc("Media", pBasedOn)), iterate(inc("DiagnosticReport", pBasedOn))}},
			[]string{"Patient/pat-1"},
			[]string{"DiagnosticReport/dr-1", "Media/med-1", "Media/med-2", "ServiceRequest/sr-1"}},
		{"revinclude then include iterate", search.Query{Type: "Patient", Where: and(qSystemCode(pIdentifier, sysNHS, "9434765919")),
			RevInclude: []search.Include{inc("DiagnosticReport", pSubject)},
			Include:    []search.Include{iterate(inc("DiagnosticReport", pPerformer))}},
			[]string{"Patient/pat-1"}, []string{"DiagnosticReport/dr-1", "Practitioner/pr-2"}},
		{"wildcard include", search.Query{Type: "ServiceRequest", Where: sr1,
			Include: []search.Include{wildcard("ServiceRequest")}},
			[]string{"ServiceRequest/sr-1"}, []string{"Patient/pat-1", "Practitioner/pr-1"}},
		{"wildcard include iterate", search.Query{Type: "Media", Where: and(qRef(pSubject, "Patient", "pat-2")),
			Include: []search.Include{wildcard("Media"), iterate(wildcard("ServiceRequest")), iterate(wildcard("Patient"))}},
			[]string{"Media/med-3"},
			[]string{"Organization/org-2", "Patient/pat-2", "Practitioner/pr-2", "ServiceRequest/sr-2"}},
		{"_include=* iterate", search.Query{Type: "Media", Where: and(qRef(pSubject, "Patient", "pat-2")),
			Include: []search.Include{{Wildcard: true, Iterate: true}}},
			[]string{"Media/med-3"},
			[]string{"Organization/org-2", "Patient/pat-2", "Practitioner/pr-2", "ServiceRequest/sr-2"}},
		{"_revinclude=*", search.Query{Type: "ServiceRequest", Where: sr1,
			RevInclude: []search.Include{{Wildcard: true}}},
			[]string{"ServiceRequest/sr-1"}, []string{"DiagnosticReport/dr-1", "Media/med-1", "Media/med-2"}},
		{"included never repeats a match", search.Query{Type: "Patient", Where: and(qSystemCode(pIdentifier, sysNHS, "")),
			RevInclude: []search.Include{inc("ServiceRequest", pSubject)},
			Include:    []search.Include{iterate(inc("ServiceRequest", pSubject))}},
			refs("Patient", "pat-1", "pat-2", "pat-4"), refs("ServiceRequest", "sr-1", "sr-2", "sr-4")},
		{"include from the page only", search.Query{Type: "ServiceRequest", Where: active, Count: 1,
			Include: []search.Include{inc("ServiceRequest", pSubject)}},
			[]string{"ServiceRequest/sr-1"}, []string{"Patient/pat-1"}},
	}
	t.Run("include from a later page", func(t *testing.T) {
		q := search.Query{Type: "ServiceRequest", Where: active, Count: 1,
			Include: []search.Include{inc("ServiceRequest", pSubject)}}
		first := searchAll(t, r, q)
		q.Cursor = first.Next
		page := searchAll(t, r, q)
		if got, want := refsOf(page.Matches), []string{"ServiceRequest/sr-3"}; !slices.Equal(got, want) {
			t.Errorf("second page %v, want %v", got, want)
		}
		if got, want := sortedRefs(page.Included), []string{"Patient/pat-3"}; !slices.Equal(got, want) {
			t.Errorf("second page included %v, want %v", got, want)
		}
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page := searchAll(t, r, tc.q)
			if got := refsOf(page.Matches); !slices.Equal(got, tc.want) {
				t.Errorf("matches %v, want %v", got, tc.want)
			}
			if got := sortedRefs(page.Included); !slices.Equal(got, tc.wantIncluded) {
				t.Errorf("included %v, want %v", got, tc.wantIncluded)
			}
			checkCurrent(t, r, page.Included)
		})
	}
}
