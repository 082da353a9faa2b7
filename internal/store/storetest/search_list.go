package storetest

import (
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchList checks _list: the resources a current List holds as
// entry.item (indexed as the List's "item" reference), of the searched
// type only; a deleted List holds nothing; functional lists are refused.
func testSearchList(t *testing.T, r store.Repository) {
	pList := param("_list", search.Special)
	list := func(id string) search.Predicate {
		return search.Predicate{Param: pList, Value: search.Value{Kind: search.Special, Code: id}}
	}
	commit(t, r,
		resource("Patient", "a", 0), resource("Patient", "b", 0), resource("Patient", "c", 0),
		resource("Observation", "a", 0),
		resource("List", "worklist", 0, eRef("item", "Patient", "a"), eRef("item", "Patient", "c"), eRef("item", "Observation", "a"),
			eRef("subject", "Patient", "b")),
		resource("List", "other", 0, eRef("item", "Patient", "b")),
		resource("List", "old", 0, eRef("item", "Patient", "b")),
	)
	old := write("List", "old", 2, minute(5))
	old.Deleted, old.Body, old.Method = true, nil, store.MethodDelete
	commit(t, r, old)
	runSearchCases(t, r, []searchCase{
		{"items of the searched type", search.Query{Type: "Patient", Where: and(list("worklist"))}, []string{"Patient/a", "Patient/c"}},
		{"other types' items", search.Query{Type: "Observation", Where: and(list("worklist"))}, []string{"Observation/a"}},
		{"OR of lists", search.Query{Type: "Patient", Where: []search.Clause{or(list("worklist"), list("other"))}}, []string{"Patient/a", "Patient/b", "Patient/c"}},
		{"AND of lists", search.Query{Type: "Patient", Where: and(list("worklist"), list("other"))}, nil},
		{"a deleted list holds nothing", search.Query{Type: "Patient", Where: and(list("old"))}, nil},
		{"an unknown list holds nothing", search.Query{Type: "Patient", Where: and(list("nope"))}, nil},
	})
	q := search.Query{Type: "Patient", Where: and(list("$current-allergies")), Count: 10}
	if page, err := r.Search(t.Context(), &q); err == nil {
		t.Errorf("a functional list gave %v, want an error", refsOf(page.Matches))
	}
}
