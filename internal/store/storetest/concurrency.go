package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

const writers = 20

// testConcurrentCAS races writers for the same next version, round after
// round: exactly one wins each round, the rest see a conflict, and the
// winner's body is what is stored.
func testConcurrentCAS(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	commit(t, r, write("Patient", "p", 1, minute(0)))
	for version := int64(2); version <= 6; version++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, writers)
		changes := make([]store.Change, writers)
		for w := range writers {
			c := write("Patient", "p", version, minute(int(version)))
			c.Body = fmt.Appendf(nil, `{"writer":%d,"version":%d}`, w, version)
			changes[w] = c
			wg.Go(func() {
				<-start
				errs[w] = r.Commit(t.Context(), []store.Change{c})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("version %d: writers %d and %d both won", version, winner, w)
			case err == nil:
				winner = w
			case !store.IsConflict(err):
				t.Fatalf("version %d: writer %d: %v, want a conflict", version, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("version %d: no writer won", version)
		}
		checkVersion(t, "Current", current(t, r, "Patient", "p"), changes[winner])
	}
}

// testConcurrentRetry has writers read, write and retry on conflict until
// each has made its share of versions: every version is made by exactly one
// writer and none is lost.
func testConcurrentRetry(t *testing.T, open func(*testing.T) store.Repository) {
	const each = 5
	r := open(t)
	commit(t, r, write("Patient", "p", 1, minute(0)))
	won := make([][]int64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for len(won[w]) < each {
				cur, err := r.Current(t.Context(), "Patient", "p")
				if err != nil {
					t.Errorf("writer %d: Current: %v", w, err)
					return
				}
				c := write("Patient", "p", cur.VersionID+1, minute(1))
				c.Body = fmt.Appendf(nil, `{"writer":%d}`, w)
				err = r.Commit(t.Context(), []store.Change{c})
				switch {
				case err == nil:
					won[w] = append(won[w], c.Version)
				case !store.IsConflict(err):
					t.Errorf("writer %d: Commit: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const last = 1 + writers*each
	if cur := current(t, r, "Patient", "p"); cur.VersionID != last {
		t.Fatalf("current version %d, want %d", cur.VersionID, last)
	}
	owner := map[int64]int{}
	for w, versions := range won {
		for _, v := range versions {
			if o, dup := owner[v]; dup {
				t.Fatalf("version %d won by writers %d and %d", v, o, w)
			}
			owner[v] = w
			got, err := r.Version(t.Context(), "Patient", "p", v)
			if err != nil {
				t.Fatalf("Version(%d): %v", v, err)
			}
			if want := fmt.Sprintf(`{"writer":%d}`, w); string(got.Body) != want {
				t.Errorf("version %d body %s, want %s", v, got.Body, want)
			}
		}
	}
}

// testConcurrentCreate has writers create distinct resources at once: none
// may fail (no lock or busy errors), and history sees them all.
func testConcurrentCreate(t *testing.T, open func(*testing.T) store.Repository) {
	const each = 10
	r := open(t)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				c := write("Observation", fmt.Sprintf("w%d-%d", w, i), 1, minute(i))
				if err := r.Commit(t.Context(), []store.Change{c}); err != nil {
					t.Errorf("Commit %s: %v", c.ID, err)
				}
			}
		})
	}
	wg.Wait()
	keys := historyKeys(t, r, store.HistoryQuery{Type: "Observation", Count: 37})
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("history repeats %s", k)
		}
		seen[k] = true
	}
	if len(seen) != writers*each {
		t.Errorf("history has %d distinct versions, want %d", len(seen), writers*each)
	}
}
