package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchTotal checks _total=accurate and _count=0.
func testSearchTotal(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	cases := []struct {
		name  string
		q     search.Query
		total int
	}{
		{"type", search.Query{Type: "Patient"}, 6},
		{"predicate", search.Query{Type: "Patient", Where: and(qCode(pGender, "female"))}, 3},
		{"deleted not counted", search.Query{Type: "Patient", Where: and(qString(pName, "smith"))}, 3},
		{"chain", search.Query{Type: "ServiceRequest", Where: and(chain(pSubject, "Patient", qString(pName, "smith")))}, 2},
		{"no match", search.Query{Type: "Patient", Where: and(qString(pName, "nobody"))}, 0},
		{"system", search.Query{}, 38},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// _count=0: only the total.
			q := tc.q
			q.Total = "accurate"
			page, err := r.Search(t.Context(), &q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if page.Total != tc.total || len(page.Matches) != 0 || page.Next != "" {
				t.Errorf("Count 0: Total %d, %d matches, Next %q; want Total %d and nothing else",
					page.Total, len(page.Matches), page.Next, tc.total)
			}
			// Every page of an accurate search carries the total.
			q.Count = 2
			n := 0
			for pageNo := 1; ; pageNo++ {
				if page, err = r.Search(t.Context(), &q); err != nil {
					t.Fatalf("Search page %d: %v", pageNo, err)
				}
				n += len(page.Matches)
				if page.Total != tc.total {
					t.Errorf("page %d: Total %d, want %d", pageNo, page.Total, tc.total)
				}
				if q.Cursor = page.Next; q.Cursor == "" || pageNo > 100 {
					break
				}
			}
			if n != tc.total {
				t.Errorf("pages hold %d matches, Total says %d", n, tc.total)
			}
			// Without _total the count is exact or -1 (not counted).
			q.Total, q.Cursor = "", ""
			if page, err = r.Search(t.Context(), &q); err != nil {
				t.Fatalf("Search: %v", err)
			}
			if page.Total != -1 && page.Total != tc.total {
				t.Errorf("no _total: Total %d, want %d or -1", page.Total, tc.total)
			}
		})
	}
}

// testSearchBadCursor checks that a cursor only continues the search that
// made it.
func testSearchBadCursor(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	base := search.Query{Type: "Patient", Count: 2}
	first, err := r.Search(t.Context(), &base)
	if err != nil || first.Next == "" {
		t.Fatalf("first page: Next %q, %v", first.Next, err)
	}
	hist, err := r.History(t.Context(), store.HistoryQuery{Type: "Patient", Count: 1})
	if err != nil || hist.Next == "" {
		t.Fatalf("history: Next %q, %v", hist.Next, err)
	}
	bad := []struct {
		name string
		q    search.Query
	}{
		{"other predicate", search.Query{Type: "Patient", Count: 2, Where: and(qCode(pGender, "female"))}},
		{"other value", search.Query{Type: "Patient", Count: 2, Where: and(qString(pName, "smith"))}},
		{"other type", search.Query{Type: "ServiceRequest", Count: 2}},
		{"other sort", search.Query{Type: "Patient", Count: 2, Sort: []search.SortKey{{Param: pFamily}}}},
		{"other sort direction", search.Query{Type: "Patient", Count: 2, Sort: []search.SortKey{{Param: pFamily, Descending: true}}}},
		{"system search", search.Query{Count: 2}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Cursor = first.Next
			if page, err := r.Search(t.Context(), &q); !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("got %d matches and %v, want an error wrapping ErrBadCursor", len(page.Matches), err)
			}
		})
	}
	for name, cursor := range map[string]string{
		"garbage":        "not a cursor!",
		"truncated":      first.Next[:len(first.Next)/2],
		"history cursor": hist.Next,
		"sorted cursor":  sortedCursor(t, r),
	} {
		t.Run(name, func(t *testing.T) {
			q := base
			q.Cursor = cursor
			if page, err := r.Search(t.Context(), &q); !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("got %d matches and %v, want an error wrapping ErrBadCursor", len(page.Matches), err)
			}
		})
	}
	t.Run("own cursor", func(t *testing.T) {
		q := base
		q.Cursor = first.Next
		page, err := r.Search(t.Context(), &q)
		if err != nil {
			t.Fatalf("Search: %v", err)
		}
		if got, want := refsOf(page.Matches), refs("Patient", "pat-3", "pat-4"); !slices.Equal(got, want) {
			t.Errorf("second page %v, want %v", got, want)
		}
	})
}

func sortedCursor(t *testing.T, r store.Repository) string {
	t.Helper()
	q := search.Query{Type: "Patient", Count: 1, Sort: []search.SortKey{{Param: pBirthdate}}}
	page, err := r.Search(t.Context(), &q)
	if err != nil || page.Next == "" {
		t.Fatalf("sorted first page: Next %q, %v", page.Next, err)
	}
	return page.Next
}
