package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

func change(typ, id string, version int64, index ...search.Entry) store.Change {
	return store.Change{Type: typ, ID: id, PrevVersion: version - 1, Version: version,
		LastUpdated: benchTime, Method: store.MethodCreate, Body: []byte(`{}`), Index: index}
}

// runGroup commits reqs as one group, as Commit does when they arrive
// together, and returns each one's result.
func runGroup(s *Store, reqs ...[]store.Change) []error {
	group := make([]*commitReq, len(reqs))
	for i, changes := range reqs {
		r, err := newCommitReq(context.Background(), changes)
		if err != nil {
			panic(err) // the tests' changes are well formed
		}
		group[i] = r
	}
	s.commitGroup(group)
	out := make([]error, len(group))
	for i, r := range group {
		out[i] = <-r.done
	}
	return out
}

func versionOf(t *testing.T, s *Store, typ, id string) int64 {
	t.Helper()
	v, err := s.Current(t.Context(), typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return v.VersionID
}

// TestGroupFailuresStayAlone: in one group, a commit whose second change
// conflicts writes nothing, the commits around it land, and a later
// commit sees the versions earlier commits of the same group made.
func TestGroupFailuresStayAlone(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	name := search.Entry{Param: "name", Kind: search.String, Text: "ann", Exact: "Ann"}
	errs := runGroup(s,
		[]store.Change{change("Patient", "a", 1, name)},
		[]store.Change{change("Patient", "b", 1, name), change("Patient", "c", 2)}, // c does not exist
		[]store.Change{change("Patient", "a", 2, name)},
		[]store.Change{change("Patient", "d", 1), change("Patient", "d", 2)},
		[]store.Change{change("Patient", "e", 1), change("Patient", "e", 1)}, // the same version twice
	)
	want := []bool{true, false, true, true, false}
	for i, ok := range want {
		if (errs[i] == nil) != ok {
			t.Errorf("commit %d: err %v, want success %v", i, errs[i], ok)
		}
		if !ok && !store.IsConflict(errs[i]) {
			t.Errorf("commit %d: err %v, want a conflict", i, errs[i])
		}
	}
	for id, v := range map[string]int64{"a": 2, "b": 0, "c": 0, "d": 2, "e": 0} {
		if got := versionOf(t, s, "Patient", id); got != v {
			t.Errorf("Patient/%s at version %d, want %d", id, got, v)
		}
	}
	q, oo := search.Parse(search.Default(), "Patient", url.Values{"name": {"ann"}}, search.ParseOptions{})
	if oo != nil {
		t.Fatal(oo)
	}
	page, err := s.Search(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Matches) != 1 || page.Matches[0].ID != "a" {
		t.Errorf("name=ann matches %v, want only Patient/a (b's entry must be gone with b)", page.Matches)
	}
}

// TestGroupWriteFailureRetriesAlone: a write that fails after the checks
// passed (here: its index table is gone) rolls the group back, and the
// other commits of the group land in transactions of their own.
func TestGroupWriteFailureRetriesAlone(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	if _, err := s.w.Exec("DROP TABLE idx_uri"); err != nil {
		t.Fatal(err)
	}
	uri := search.Entry{Param: "url", Kind: search.URI, URL: "http://example.org/x"}
	errs := runGroup(s,
		[]store.Change{change("Patient", "a", 1)},
		[]store.Change{change("ValueSet", "v", 1, uri)},
		[]store.Change{change("Patient", "b", 1)},
	)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("healthy commits failed: %v, %v", errs[0], errs[2])
	}
	if errs[1] == nil {
		t.Error("the commit whose index table is gone succeeded")
	}
	for typ, id := range map[string]string{"Patient": "a", "ValueSet": "v"} {
		want := int64(1)
		if typ == "ValueSet" {
			want = 0
		}
		if got := versionOf(t, s, typ, id); got != want {
			t.Errorf("%s/%s at version %d, want %d", typ, id, got, want)
		}
	}
	if got := versionOf(t, s, "Patient", "b"); got != 1 {
		t.Errorf("Patient/b at version %d, want 1", got)
	}
}

// TestRepeatedStringsStoredOnce: Patient.name's family and given values and
// all of phonetic's (search.Sources) take no index rows of their own.
func TestRepeatedStringsStoredOnce(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	str := func(param, v string) search.Entry {
		return search.Entry{Param: param, Kind: search.String, Text: search.Normalize(v), Exact: v}
	}
	c := change("Patient", "a", 1,
		str("family", "Smith"), str("given", "Jane"),
		str("name", "Smith"), str("name", "Jane"), str("name", "Jane Smith"),
		str("phonetic", "Smith"), str("phonetic", "Jane"), str("phonetic", "Jane Smith"))
	if err := s.Commit(t.Context(), []store.Change{c}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.QueryContext(t.Context(), "SELECT param, exact FROM idx_string ORDER BY param, exact")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var p, e string
		if err := rows.Scan(&p, &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, p+"="+e)
	}
	want := []string{"family=Smith", "given=Jane", "name=Jane Smith"}
	if !slices.Equal(got, want) {
		t.Errorf("index rows %v, want %v", got, want)
	}
}

// TestLeaderHandsOnOnceItsCommitIsDone: the caller running the groups
// (the leader) returns once its own commit's group has run and hands the
// queue to the first commit still waiting. A leader that kept the queue
// until it was empty did not return at all under sustained writes
// (ingest requests were held for 15 to 120 s so).
func TestLeaderHandsOnOnceItsCommitIsDone(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	// Another leader is busy, so A queues.
	s.queue.mu.Lock()
	s.queue.leading = true
	s.queue.mu.Unlock()
	errA := make(chan error, 1)
	go func() { errA <- s.Commit(t.Context(), []store.Change{change("Patient", "a", 1)}) }()
	for queued := false; !queued; {
		runtime.Gosched()
		s.queue.mu.Lock()
		queued = len(s.queue.pending) == 1
		s.queue.mu.Unlock()
	}
	// More than a group's worth queue behind A; then the busy leader hands
	// the queue to A, as lead does.
	others := make([]*commitReq, maxGroup+1)
	s.queue.mu.Lock()
	a := s.queue.pending[0]
	for i := range others {
		r, err := newCommitReq(t.Context(), []store.Change{change("Patient", fmt.Sprint("o", i), 1)})
		if err != nil {
			t.Fatal(err)
		}
		others[i] = r
		s.queue.pending = append(s.queue.pending, others[i])
	}
	a.lead <- struct{}{}
	s.queue.mu.Unlock()

	// A's group is A and the first maxGroup-1 others; A returns after it.
	if err := <-errA; err != nil {
		t.Fatal(err)
	}
	next, last := others[maxGroup-1], others[maxGroup]
	select {
	case <-next.lead:
	default:
		t.Fatal("the first commit left waiting was not handed the queue")
	}
	if len(next.done) != 0 || len(last.done) != 0 {
		t.Fatal("the leader ran commits beyond its own group")
	}
	for _, r := range others[:maxGroup-1] {
		if err := <-r.done; err != nil {
			t.Fatal(err)
		}
	}
	// The new leader runs the rest.
	s.queue.mu.Lock()
	s.lead(next)
	for _, r := range []*commitReq{next, last} {
		if err := <-r.done; err != nil {
			t.Fatal(err)
		}
	}
	s.queue.mu.Lock()
	leading := s.queue.leading
	s.queue.mu.Unlock()
	if leading {
		t.Error("the queue is empty but still has a leader")
	}
	if v := versionOf(t, s, "Patient", fmt.Sprint("o", maxGroup)); v != 1 {
		t.Errorf("the last commit left version %d, want 1", v)
	}
}
