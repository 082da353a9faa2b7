package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// searchPages follows Next from the first page to the last, checking each
// page's size, and calls between(page number) after every page but the last.
func searchPages(t *testing.T, r store.Repository, q search.Query, between func(int)) []store.Version {
	t.Helper()
	var all []store.Version
	for n := 1; ; n++ {
		page, err := r.Search(t.Context(), &q)
		if err != nil {
			t.Fatalf("Search page %d: %v", n, err)
		}
		if len(page.Matches) > q.Count {
			t.Fatalf("Search page %d has %d matches, Count is %d", n, len(page.Matches), q.Count)
		}
		all = append(all, page.Matches...)
		if page.Next == "" {
			return all
		}
		if len(page.Matches) == 0 {
			t.Fatalf("Search page %d is empty but has a Next cursor", n)
		}
		if n > 5000 {
			t.Fatalf("Search still has a Next cursor after %d pages", n)
		}
		if between != nil {
			between(n)
		}
		q.Cursor = page.Next
	}
}

// testSearchSort checks _sort on every sortable type, with several keys,
// descending keys, ties (broken the same way on every page) and missing
// values (lowest: first ascending, last descending), and that paging
// through a sorted result at any page size gives the same order.
func testSearchSort(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	asc := func(p *search.Param) search.SortKey { return search.SortKey{Param: p} }
	desc := func(p *search.Param) search.SortKey { return search.SortKey{Param: p, Descending: true} }
	pat := func(ids ...string) []string { return refs("Patient", ids...) }
	sorted := func(name, typ string, where []search.Clause, keys []search.SortKey, want []string) searchCase {
		return searchCase{name, search.Query{Type: typ, Where: where, Sort: keys}, want}
	}
	cases := []searchCase{
		sorted("string", "Patient", nil, []search.SortKey{asc(pFamily)},
			pat("pat-6", "pat-1", "pat-2", "pat-7", "pat-4", "pat-3")),
		sorted("string descending, ties in creation order", "Patient", nil, []search.SortKey{desc(pFamily)},
			pat("pat-3", "pat-4", "pat-2", "pat-7", "pat-1", "pat-6")),
		// name has a family and a given entry: ascending sorts on the
		// lowest, descending on the highest.
		sorted("string with several values", "Patient", nil, []search.SortKey{asc(pName)},
			pat("pat-7", "pat-3", "pat-2", "pat-4", "pat-6", "pat-1")),
		sorted("string with several values descending", "Patient", nil, []search.SortKey{desc(pName)},
			pat("pat-1", "pat-3", "pat-4", "pat-2", "pat-7", "pat-6")),
		sorted("date, missing first", "Patient", nil, []search.SortKey{asc(pBirthdate)},
			pat("pat-4", "pat-3", "pat-1", "pat-7", "pat-2", "pat-6")),
		sorted("date descending, missing last", "Patient", nil, []search.SortKey{desc(pBirthdate)},
			pat("pat-6", "pat-2", "pat-1", "pat-7", "pat-3", "pat-4")),
		sorted("two keys", "Patient", nil, []search.SortKey{asc(pBirthdate), desc(pFamily)},
			pat("pat-4", "pat-3", "pat-7", "pat-1", "pat-2", "pat-6")),
		sorted("two keys both descending", "Patient", nil, []search.SortKey{desc(pBirthdate), desc(pFamily)},
			pat("pat-6", "pat-2", "pat-7", "pat-1", "pat-3", "pat-4")),
		sorted("sort with a predicate", "Patient", and(qCode(pGender, "female")), []search.SortKey{desc(pBirthdate)},
			pat("pat-1", "pat-7", "pat-3")),
		sorted("date precision: sorts on the start", "ServiceRequest", nil, []search.SortKey{asc(pAuthored)},
			refs("ServiceRequest", "sr-4", "sr-5", "sr-3", "sr-1", "sr-2")),
		sorted("date descending", "ServiceRequest", nil, []search.SortKey{desc(pAuthored)},
			refs("ServiceRequest", "sr-2", "sr-1", "sr-3", "sr-5", "sr-4")),
		sorted("token", "ServiceRequest", nil, []search.SortKey{asc(pStatus)},
			refs("ServiceRequest", "sr-1", "sr-3", "sr-5", "sr-2", "sr-4")),
		sorted("token then date", "ServiceRequest", nil, []search.SortKey{asc(pStatus), asc(pAuthored)},
			refs("ServiceRequest", "sr-5", "sr-3", "sr-1", "sr-2", "sr-4")),
		sorted("quantity", "Observation", nil, []search.SortKey{asc(pValueQty)},
			refs("Observation", "obs-6", "obs-3", "obs-2", "obs-4", "obs-5", "obs-1")),
		sorted("quantity descending", "Observation", nil, []search.SortKey{desc(pValueQty)},
			refs("Observation", "obs-1", "obs-4", "obs-5", "obs-2", "obs-3", "obs-6")),
		sorted("number", "ImmunizationRecommendation", nil, []search.SortKey{desc(pDoseNumber)},
			refs("ImmunizationRecommendation", "ir-4", "ir-6", "ir-2", "ir-3", "ir-1", "ir-5")),
		sorted("reference", "Observation", nil, []search.SortKey{desc(pSubject)},
			refs("Observation", "obs-4", "obs-3", "obs-5", "obs-1", "obs-2", "obs-6")),
		sorted("uri", "Questionnaire", nil, []search.SortKey{desc(pURL)},
			refs("Questionnaire", "q-3", "q-2", "q-1")),
		{"several types", search.Query{Types: []string{"Practitioner", "Organization"}, Sort: []search.SortKey{asc(pName)}},
			[]string{"Practitioner/pr-1", "Organization/org-2", "Practitioner/pr-2", "Organization/org-1"}},
	}
	runSearchCases(t, r, cases)
	runPagedCases(t, r, cases, 1, 2, 4)
}

// runPagedCases runs each case again page by page at each page size:
// following the cursors must give the same matches in the same order.
func runPagedCases(t *testing.T, r store.Repository, cases []searchCase, counts ...int) {
	for _, tc := range cases {
		for _, count := range counts {
			t.Run(fmt.Sprintf("%s/paged by %d", tc.name, count), func(t *testing.T) {
				q := tc.q
				q.Count = count
				if got := refsOf(searchPages(t, r, q, nil)); !slices.Equal(got, tc.want) {
					t.Errorf("Count %d: pages give %v, want %v", count, got, tc.want)
				}
			})
		}
	}
}

// testSearchSortMultiDate sorts on a date parameter some resources have
// several values of (the same value twice, even) and some none: each
// resource comes once, at its lowest start ascending and its highest
// descending, on every page size.
func testSearchSortMultiDate(t *testing.T, r store.Repository) {
	pDate := param("date", search.Date)
	commit(t, r,
		resource("Encounter", "enc-1", 0, eDate("date", days(2020, 1, 1)), eDate("date", days(2022, 1, 1))),
		resource("Encounter", "enc-2", 0, eDate("date", days(2021, 1, 1))),
		resource("Encounter", "enc-3", 0),
		resource("Encounter", "enc-4", 0, eDate("date", days(2019, 6, 1)), eDate("date", days(2019, 6, 1))),
		resource("Encounter", "enc-5", 0),
	)
	enc := func(ids ...string) []string { return refs("Encounter", ids...) }
	cases := []searchCase{
		{"ascending", search.Query{Type: "Encounter", Sort: []search.SortKey{{Param: pDate}}}, enc("enc-3", "enc-5", "enc-4", "enc-1", "enc-2")},
		{"descending", search.Query{Type: "Encounter", Sort: []search.SortKey{{Param: pDate, Descending: true}}}, enc("enc-1", "enc-2", "enc-4", "enc-3", "enc-5")},
	}
	runSearchCases(t, r, cases)
	runPagedCases(t, r, cases, 1, 2, 3)
}
