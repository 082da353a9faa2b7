package storetest

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchID: _id with the entry the indexer gives every resource (its
// id as a token without system), which a store may answer from the
// resource itself rather than from index rows.
func testSearchID(t *testing.T, r store.Repository) {
	pID := param("_id", search.Token)
	pSubject := param("subject", search.Reference)
	id := func(v string) search.Entry { return eToken("_id", "", v) }
	commit(t, r,
		resource("Patient", "a", 0, id("a")), resource("Patient", "b", 0, id("b")), resource("Patient", "c", 0, id("c")),
		resource("Observation", "o1", 0, id("o1"), eRef("subject", "Patient", "b")),
		resource("Observation", "o2", 0, id("o2"), eRef("subject", "Patient", "c")),
	)
	gone := write("Patient", "c", 2, minute(5))
	gone.Deleted, gone.Body, gone.Method = true, nil, store.MethodDelete
	commit(t, r, gone)
	pat := func(ids ...string) []string { return refs("Patient", ids...) }
	q := func(where ...search.Predicate) search.Query {
		return search.Query{Type: "Patient", Where: and(where...)}
	}
	runSearchCases(t, r, []searchCase{
		{"id", q(qCode(pID, "b")), pat("b")},
		{"OR of ids", search.Query{Type: "Patient", Where: []search.Clause{or(qCode(pID, "a"), qCode(pID, "b"), qCode(pID, "zz"))}}, pat("a", "b")},
		{"AND of ids", q(qCode(pID, "a"), qCode(pID, "b")), nil},
		{"a deleted resource's id", q(qCode(pID, "c")), nil},
		{"another type's id", q(qCode(pID, "o1")), nil},
		{"|id: no system", q(qSystemCode(pID, "", "a")), pat("a")},
		{"system|id: ids have no system", q(qSystemCode(pID, "http://x", "a")), nil},
		{":not", q(modified(":not", qCode(pID, "a"))), pat("b")},
		{":missing=false", q(qMissing(pID, false)), pat("a", "b")},
		{":missing=true", q(qMissing(pID, true)), nil},
		{"sorted descending", search.Query{Type: "Patient", Sort: []search.SortKey{{Param: pID, Descending: true}}}, pat("b", "a")},
		{"chain", search.Query{Type: "Observation", Where: and(chain(pSubject, "Patient", qCode(pID, "b")))}, refs("Observation", "o1")},
		{"_has", q(has("Observation", pSubject, qCode(pID, "o1"))), pat("b")},
		{"system search", search.Query{Where: and(qCode(pID, "o2"))}, refs("Observation", "o2")},
	})
	// Pages of one, sorted by _id, continue by cursor.
	var got []string
	q2 := search.Query{Type: "Patient", Sort: []search.SortKey{{Param: pID}}, Count: 1}
	for range 4 {
		page, err := r.Search(t.Context(), &q2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, refsOf(page.Matches)...)
		if page.Next == "" {
			break
		}
		q2.Cursor = page.Next
	}
	if want := pat("a", "b"); !slices.Equal(got, want) {
		t.Errorf("pages sorted by _id: %v, want %v", got, want)
	}
}
