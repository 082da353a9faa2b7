package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// testChanges: the commit log lists every version once, oldest first, in
// commit order (a multi-change commit in its order), with strictly
// increasing seqs, and pages by seq.
func testChanges(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	empty, err := r.Changes(t.Context(), 0, 10)
	if err != nil || len(empty) != 0 {
		t.Fatalf("Changes on an empty store = %v, %v; want none", empty, err)
	}
	want := []store.Change{
		write("Patient", "a", 1, minute(1)),
		write("Observation", "o", 1, minute(2)),
		write("Patient", "a", 2, minute(3)),
		tombstone("Observation", "o", 2, minute(4)),
	}
	commit(t, r, want[0])
	commit(t, r, want[1], want[2]) // one commit, two changes: in that order
	commit(t, r, want[3])

	all, err := r.Changes(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("%d changes, want %d", len(all), len(want))
	}
	for i, c := range all {
		v := c.Version
		checkVersion(t, "change", &v, want[i])
		if i > 0 && c.Seq <= all[i-1].Seq {
			t.Errorf("seq %d after %d: not increasing", c.Seq, all[i-1].Seq)
		}
	}
	// Paging: after the second change's seq, at most 1.
	page, err := r.Changes(t.Context(), all[1].Seq, 1)
	if err != nil || len(page) != 1 || page[0].Seq != all[2].Seq {
		t.Fatalf("Changes(after %d, 1) = %+v, %v; want the third change", all[1].Seq, page, err)
	}
	rest, err := r.Changes(t.Context(), all[3].Seq, 10)
	if err != nil || len(rest) != 0 {
		t.Fatalf("Changes after the last = %v, %v", rest, err)
	}
	if _, err := r.Changes(t.Context(), 0, 0); err == nil {
		t.Error("Changes with limit 0 succeeded")
	}
}

// testChangesWhileWriting: a reader following the log while writers
// commit concurrently sees every version exactly once, in seq order.
func testChangesWhileWriting(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := r.Commit(t.Context(), []store.Change{write("Patient", id, 1, minute(i))}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	var cursor int64
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := r.Changes(t.Context(), cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if c.Seq <= cursor {
				t.Fatalf("seq %d at or below the cursor %d", c.Seq, cursor)
			}
			if seen[c.ID] {
				t.Fatalf("%s seen twice", c.ID)
			}
			seen[c.ID], cursor = true, c.Seq
		}
		if finished && len(page) == 0 {
			break
		}
	}
	if len(seen) != writers*each {
		t.Fatalf("saw %d versions, want %d", len(seen), writers*each)
	}
}
