package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchPagingWhileWriting pages through 1,000 matches, 50 at a time,
// while another goroutine commits new matching and non-matching resources
// between every two pages. Every one of the original 1,000 must be seen
// exactly once, no page may repeat a resource, and nothing that does not
// match may appear. It runs unsorted (creation order) and sorted on a key
// with many ties, where new resources land both before and after the
// cursor.
func testSearchPagingWhileWriting(t *testing.T, r store.Repository) {
	const originals, pageSize, batch = 1000, 50, 100
	pTag := param("_tag", search.Token)
	families := []string{"Adams", "Brown", "Clarke", "Davies", "Evans", "Fraser", "Green"}
	entries := func(tag string, n int) []search.Entry {
		return []search.Entry{
			eToken("_tag", "urn:test", tag),
			eString("family", families[n%len(families)]),
			eDate("birthdate", days(1950+n%40, 1, 1)),
		}
	}
	for start := 0; start < originals; start += batch {
		changes := make([]store.Change, 0, batch)
		for i := start; i < start+batch; i++ {
			changes = append(changes, resource("Patient", fmt.Sprintf("orig-%04d", i), 0, entries("batch", i)...))
		}
		commit(t, r, changes...)
	}

	matching := search.Query{Type: "Patient", Count: pageSize, Total: "accurate",
		Where: and(qSystemCode(pTag, "urn:test", "batch"))}
	run := 0
	for _, tc := range []struct {
		name string
		sort []search.SortKey
	}{
		{"creation order", nil},
		{"sorted with ties", []search.SortKey{{Param: pFamily, Descending: true}}},
		{"two sort keys", []search.SortKey{{Param: pBirthdate}, {Param: pFamily, Descending: true}}},
	} {
		run++
		t.Run(tc.name, func(t *testing.T) {
			q := matching
			q.Sort = tc.sort
			first, err := r.Search(t.Context(), &q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if first.Total < originals {
				t.Errorf("first page: Total %d, want at least %d", first.Total, originals)
			}

			// The writer commits a few resources each time it is asked and
			// says when it is done, so the writes fall between pages.
			ask, done := make(chan int), make(chan error)
			prefix := fmt.Sprintf("run%d", run)
			go func() {
				for n := range ask {
					var changes []store.Change
					for k := range 3 {
						i := n*10 + k
						changes = append(changes,
							resource("Patient", fmt.Sprintf("%s-new-%d", prefix, i), 0, entries("batch", i*7+3)...),
							resource("Patient", fmt.Sprintf("%s-other-%d", prefix, i), 0, entries("other", i*7+3)...))
					}
					done <- r.Commit(t.Context(), changes)
				}
				close(done)
			}()
			defer func() {
				close(ask)
				for range done {
				}
			}()
			pages := 0
			all := searchPages(t, r, q, func(n int) {
				pages = n
				ask <- n
				if err := <-done; err != nil {
					t.Errorf("writer: %v", err)
				}
			})

			seen := map[string]int{}
			for _, v := range all {
				seen[v.ID]++
				if seen[v.ID] == 2 {
					t.Errorf("%s/%s returned twice", v.Type, v.ID)
				}
			}
			missing := 0
			for i := range originals {
				if seen[fmt.Sprintf("orig-%04d", i)] == 0 {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%d of the %d original matches never returned", missing, originals)
			}
			extra := 0
			for id := range seen {
				switch {
				case strings.HasPrefix(id, "orig-"):
				case strings.Contains(id, "-new-"):
					extra++
				default:
					t.Errorf("Patient/%s does not match but was returned", id)
				}
			}
			if pages < originals/pageSize-1 {
				t.Errorf("only %d pages were read", pages+1)
			}
			t.Logf("%d pages, %d originals, %d written during paging", pages+1, originals-missing, extra)
		})
	}
}
