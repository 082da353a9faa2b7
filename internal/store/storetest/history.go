package storetest

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// historyFixture commits one version per commit, a minute apart, and
// returns the changes by label ("a1" is Patient/a version 1; x and y are
// Observations). Each version is current over [written, next written):
//
//	a1 [1,4)  b1 [2,9)  x1 [3,5)  a2 [4,6)  x2 [5,∞)  a3 deleted [6,∞)
//	c1 [7,∞)  y1 [8,∞)  b2 [9,∞)
func historyFixture(t *testing.T, r store.Repository) map[string]store.Change {
	t.Helper()
	steps := []struct {
		label, typ, id string
		version        int64
	}{
		{"a1", "Patient", "a", 1}, {"b1", "Patient", "b", 1}, {"x1", "Observation", "x", 1},
		{"a2", "Patient", "a", 2}, {"x2", "Observation", "x", 2}, {"a3", "Patient", "a", 3},
		{"c1", "Patient", "c", 1}, {"y1", "Observation", "y", 1}, {"b2", "Patient", "b", 2},
	}
	byLabel := map[string]store.Change{}
	for i, s := range steps {
		c := write(s.typ, s.id, s.version, minute(i+1))
		if s.label == "a3" {
			c = tombstone(s.typ, s.id, s.version, minute(i+1))
		}
		commit(t, r, c)
		byLabel[s.label] = c
	}
	return byLabel
}

// keysOf turns fixture labels into history keys.
func keysOf(fx map[string]store.Change, labels ...string) []string {
	keys := []string{}
	for _, l := range labels {
		c := fx[l]
		keys = append(keys, key(c.Type, c.ID, c.Version))
	}
	return keys
}

// historyPages follows Next from the first page to the last, checking each
// page's size, and calls between(page number) after every page but the last.
func historyPages(t *testing.T, r store.Repository, q store.HistoryQuery, between func(int)) []store.Version {
	t.Helper()
	var all []store.Version
	for n := 1; ; n++ {
		page, err := r.History(t.Context(), q)
		if err != nil {
			t.Fatalf("History page %d: %v", n, err)
		}
		if len(page.Versions) > q.Count {
			t.Fatalf("History page %d has %d versions, Count is %d", n, len(page.Versions), q.Count)
		}
		all = append(all, page.Versions...)
		if page.Next == "" {
			return all
		}
		if len(page.Versions) == 0 {
			t.Fatalf("History page %d is empty but has a Next cursor", n)
		}
		if n > 1000 {
			t.Fatalf("History still has a Next cursor after %d pages", n)
		}
		if between != nil {
			between(n)
		}
		q.Cursor = page.Next
	}
}

func historyKeys(t *testing.T, r store.Repository, q store.HistoryQuery) []string {
	t.Helper()
	keys := []string{}
	for _, v := range historyPages(t, r, q, nil) {
		keys = append(keys, key(v.Type, v.ID, v.VersionID))
	}
	return keys
}

func equal(a, b []string) bool { return slices.Equal(a, b) }

var pageSizes = []int{1, 2, 3, 4, 100}

func testHistory(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	fx := historyFixture(t, r)
	cases := []struct {
		name string
		q    store.HistoryQuery
		want []string
	}{
		{"system", store.HistoryQuery{}, keysOf(fx, "b2", "y1", "c1", "a3", "x2", "a2", "x1", "b1", "a1")},
		{"type", store.HistoryQuery{Type: "Patient"}, keysOf(fx, "b2", "c1", "a3", "a2", "b1", "a1")},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "a"}, keysOf(fx, "a3", "a2", "a1")},
		{"missing instance", store.HistoryQuery{Type: "Patient", ID: "nope"}, keysOf(fx)},
		{"missing type", store.HistoryQuery{Type: "Media"}, keysOf(fx)},
	}
	for _, tc := range cases {
		for _, n := range pageSizes {
			t.Run(tc.name+"/count="+strconv.Itoa(n), func(t *testing.T) {
				q := tc.q
				q.Count = n
				versions := historyPages(t, r, q, nil)
				got := []string{}
				for i := range versions {
					v := &versions[i]
					got = append(got, key(v.Type, v.ID, v.VersionID))
					for _, c := range fx {
						if c.Type == v.Type && c.ID == v.ID && c.Version == v.VersionID {
							checkVersion(t, "history entry", v, c)
						}
					}
				}
				if !equal(got, tc.want) {
					t.Errorf("history = %q, want %q", got, tc.want)
				}
			})
		}
	}
}

// testHistoryStableCursor writes between pages: the pages that follow must
// still hold exactly the versions that were there when paging began.
func testHistoryStableCursor(t *testing.T, open func(*testing.T) store.Repository) {
	cases := []struct {
		name string
		q    store.HistoryQuery
	}{
		{"system", store.HistoryQuery{}},
		{"type", store.HistoryQuery{Type: "Patient"}},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "b"}},
	}
	for _, tc := range cases {
		for _, n := range []int{1, 2, 4} {
			t.Run(tc.name+"/count="+strconv.Itoa(n), func(t *testing.T) {
				r := open(t)
				historyFixture(t, r)
				q := tc.q
				q.Count = n
				want := historyKeys(t, r, q)
				bNext, aNext := int64(3), int64(4)
				versions := historyPages(t, r, q, func(page int) {
					commit(t, r, write("Patient", "b", bNext, minute(20+page)))
					commit(t, r, write("Patient", "a", aNext, minute(20+page)),
						write("Patient", "new"+strconv.Itoa(page), 1, minute(20+page)))
					bNext, aNext = bNext+1, aNext+1
				})
				got := []string{}
				for _, v := range versions {
					got = append(got, key(v.Type, v.ID, v.VersionID))
				}
				if !equal(got, want) {
					t.Errorf("history paged during writes = %q, want %q", got, want)
				}
			})
		}
	}
}

func testHistorySince(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	fx := historyFixture(t, r)
	cases := []struct {
		name string
		q    store.HistoryQuery
		want []string
	}{
		{"system, inclusive", store.HistoryQuery{Since: minute(5)}, keysOf(fx, "b2", "y1", "c1", "a3", "x2")},
		{"system, between writes", store.HistoryQuery{Since: minute(5).Add(time.Millisecond)}, keysOf(fx, "b2", "y1", "c1", "a3")},
		{"type", store.HistoryQuery{Type: "Patient", Since: minute(5)}, keysOf(fx, "b2", "c1", "a3")},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "a", Since: minute(4)}, keysOf(fx, "a3", "a2")},
		{"before all", store.HistoryQuery{Since: t0}, keysOf(fx, "b2", "y1", "c1", "a3", "x2", "a2", "x1", "b1", "a1")},
		{"after all", store.HistoryQuery{Since: minute(10)}, keysOf(fx)},
	}
	for _, tc := range cases {
		for _, n := range pageSizes {
			t.Run(tc.name+"/count="+strconv.Itoa(n), func(t *testing.T) {
				q := tc.q
				q.Count = n
				if got := historyKeys(t, r, q); !equal(got, tc.want) {
					t.Errorf("history = %q, want %q", got, tc.want)
				}
			})
		}
	}
}

// testHistoryAt checks _at: versions current at some moment of [AtLo, AtHi),
// that is written before AtHi and superseded (if ever) after AtLo.
func testHistoryAt(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	fx := historyFixture(t, r)
	ms := time.Millisecond
	at := func(lo, hi time.Time) store.HistoryQuery { return store.HistoryQuery{AtLo: lo, AtHi: hi} }
	half := minute(4).Add(30 * time.Second)
	cases := []struct {
		name string
		q    store.HistoryQuery
		want []string
	}{
		{"an instant", at(half, half.Add(ms)), keysOf(fx, "a2", "x1", "b1")},
		{"a window", at(minute(4), minute(5)), keysOf(fx, "a2", "x1", "b1")},
		{"instant of a write", at(minute(4), minute(4).Add(ms)), keysOf(fx, "a2", "x1", "b1")},
		{"instant before a write", at(minute(4).Add(-ms), minute(4)), keysOf(fx, "x1", "b1", "a1")},
		{"before everything", at(t0, minute(1)), keysOf(fx)},
		{"the first write", at(t0, minute(1).Add(ms)), keysOf(fx, "a1")},
		{"tombstone is current", store.HistoryQuery{Type: "Patient", AtLo: minute(6), AtHi: minute(7)}, keysOf(fx, "a3", "b1")},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "a", AtLo: minute(3), AtHi: minute(5)}, keysOf(fx, "a2", "a1")},
		{"after everything", at(minute(10), minute(11)), keysOf(fx, "b2", "y1", "c1", "a3", "x2")},
		{"whole span", at(t0, minute(60)), keysOf(fx, "b2", "y1", "c1", "a3", "x2", "a2", "x1", "b1", "a1")},
	}
	for _, tc := range cases {
		for _, n := range pageSizes {
			t.Run(tc.name+"/count="+strconv.Itoa(n), func(t *testing.T) {
				q := tc.q
				q.Count = n
				if got := historyKeys(t, r, q); !equal(got, tc.want) {
					t.Errorf("history = %q, want %q", got, tc.want)
				}
			})
		}
	}
}

func testHistoryErrors(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	historyFixture(t, r)
	first, err := r.History(t.Context(), store.HistoryQuery{Count: 2})
	if err != nil || first.Next == "" {
		t.Fatalf("History = %v, Next %q; want a next page", err, first.Next)
	}
	for _, cursor := range []string{"x", "!!!!", "AAAA", "bm90IGEgY3Vyc29y", first.Next + "!", "%%"} {
		_, err := r.History(t.Context(), store.HistoryQuery{Count: 2, Cursor: cursor})
		if !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("History(cursor %q) = %v, want ErrBadCursor", cursor, err)
		}
	}
	for name, q := range map[string]store.HistoryQuery{
		"count 0":         {Count: 0},
		"negative":        {Count: -1},
		"id, no type":     {ID: "a", Count: 1},
		"count 0, cursor": {Count: 0, Cursor: first.Next},
	} {
		if _, err := r.History(t.Context(), q); err == nil {
			t.Errorf("History(%s) = nil error, want one", name)
		}
	}
}
