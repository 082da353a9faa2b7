package storetest

import (
	"errors"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// testTombstone checks that a deletion is a version like any other: it is
// current, keeps the history before it, and is what the next write follows.
func testTombstone(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	created := write("Patient", "p1", 1, minute(1))
	deleted := tombstone("Patient", "p1", 2, minute(2))
	commit(t, r, created)
	commit(t, r, deleted)

	checkVersion(t, "Current after delete", current(t, r, "Patient", "p1"), deleted)
	for _, c := range []store.Change{created, deleted} {
		got, err := r.Version(t.Context(), "Patient", "p1", c.Version)
		if err != nil {
			t.Fatalf("Version(%d): %v", c.Version, err)
		}
		checkVersion(t, "Version", got, c)
	}
	checkConflict(t, r.Commit(t.Context(), []store.Change{write("Patient", "p1", 1, minute(3))}),
		"Patient", "p1", 0, 2)

	recreated := write("Patient", "p1", 3, minute(4))
	recreated.Method = store.MethodCreate
	commit(t, r, recreated)
	checkVersion(t, "Current after re-create", current(t, r, "Patient", "p1"), recreated)
	if got := historyKeys(t, r, store.HistoryQuery{Type: "Patient", ID: "p1", Count: 10}); !equal(got,
		[]string{key("Patient", "p1", 3), key("Patient", "p1", 2), key("Patient", "p1", 1)}) {
		t.Errorf("history = %q", got)
	}
}

// testConflict checks the compare-and-set: a commit with any stale change
// returns *ConflictError naming it and writes nothing, not even the changes
// before it.
func testConflict(t *testing.T, open func(*testing.T) store.Repository) {
	cases := []struct {
		name    string
		changes []store.Change
		// the conflicting change
		typ, id    string
		want, have int64
	}{
		{name: "create existing", changes: []store.Change{write("Patient", "p", 1, minute(9))},
			typ: "Patient", id: "p", want: 0, have: 2},
		{name: "stale update", changes: []store.Change{write("Patient", "p", 2, minute(9))},
			typ: "Patient", id: "p", want: 1, have: 2},
		{name: "update ahead", changes: []store.Change{write("Patient", "p", 4, minute(9))},
			typ: "Patient", id: "p", want: 3, have: 2},
		{name: "update missing", changes: []store.Change{write("Patient", "q", 2, minute(9))},
			typ: "Patient", id: "q", want: 1, have: 0},
		{name: "delete stale", changes: []store.Change{tombstone("Patient", "p", 2, minute(9))},
			typ: "Patient", id: "p", want: 1, have: 2},
		{name: "last of three conflicts", changes: []store.Change{
			write("Patient", "new", 1, minute(9)),
			write("Observation", "o", 2, minute(9)),
			write("Patient", "p", 1, minute(9)),
		}, typ: "Patient", id: "p", want: 0, have: 2},
		{name: "first of three conflicts", changes: []store.Change{
			write("Observation", "o", 3, minute(9)),
			write("Patient", "new", 1, minute(9)),
			write("Patient", "p", 3, minute(9)),
		}, typ: "Observation", id: "o", want: 2, have: 1},
		{name: "middle of three conflicts", changes: []store.Change{
			write("Patient", "new", 1, minute(9)),
			write("Patient", "q", 2, minute(9)),
			write("Patient", "p", 3, minute(9)),
		}, typ: "Patient", id: "q", want: 1, have: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := open(t)
			p1, p2, o1 := write("Patient", "p", 1, minute(1)), write("Patient", "p", 2, minute(2)), write("Observation", "o", 1, minute(3))
			commit(t, r, p1)
			commit(t, r, p2)
			commit(t, r, o1)
			before := historyKeys(t, r, store.HistoryQuery{Count: 100})

			checkConflict(t, r.Commit(t.Context(), tc.changes), tc.typ, tc.id, tc.want, tc.have)

			checkVersion(t, "Patient/p after conflict", current(t, r, "Patient", "p"), p2)
			checkVersion(t, "Observation/o after conflict", current(t, r, "Observation", "o"), o1)
			for _, id := range []string{"new", "q"} {
				if _, err := r.Current(t.Context(), "Patient", id); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("Current(Patient/%s) after conflict = %v, want ErrNotFound", id, err)
				}
			}
			if after := historyKeys(t, r, store.HistoryQuery{Count: 100}); !equal(after, before) {
				t.Errorf("history after conflict = %q, want %q", after, before)
			}
		})
	}
}

func checkConflict(t *testing.T, err error, typ, id string, want, have int64) {
	t.Helper()
	var c *store.ConflictError
	if !errors.As(err, &c) {
		t.Fatalf("Commit error = %v, want *store.ConflictError", err)
	}
	if c.Type != typ || c.ID != id || c.Want != want || c.Have != have {
		t.Errorf("conflict = %+v, want {Type:%s ID:%s Want:%d Have:%d}", *c, typ, id, want, have)
	}
	if !store.IsConflict(err) {
		t.Errorf("IsConflict(%v) = false", err)
	}
}

// testInvalidChange checks that malformed changes are refused before
// anything is written, and are not reported as conflicts.
func testInvalidChange(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	good := write("Patient", "ok", 1, minute(1))
	skip := write("Patient", "p", 2, minute(1))
	skip.Version = 3
	same := write("Patient", "p", 1, minute(1))
	same.Version = 0
	noType := write("", "p", 1, minute(1))
	noID := write("Patient", "", 1, minute(1))
	for name, bad := range map[string]store.Change{
		"version skips": skip, "version repeats": same, "no type": noType, "no id": noID,
	} {
		t.Run(name, func(t *testing.T) {
			err := r.Commit(t.Context(), []store.Change{good, bad})
			if err == nil || store.IsConflict(err) {
				t.Fatalf("Commit = %v, want an error that is not a conflict", err)
			}
			if _, err := r.Current(t.Context(), "Patient", "ok"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Current(Patient/ok) = %v, want ErrNotFound", err)
			}
		})
	}
	if err := r.Commit(t.Context(), nil); err != nil {
		t.Errorf("Commit(nil) = %v, want nil", err)
	}
}

// testAtomicCommit checks that every change of a successful commit is
// visible, across types.
func testAtomicCommit(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	p1 := write("Patient", "p", 1, minute(1))
	commit(t, r, p1)
	changes := []store.Change{
		write("ServiceRequest", "sr", 1, minute(2)),
		write("Media", "m1", 1, minute(2)),
		write("Binary", "b1", 1, minute(2)),
		write("Patient", "p", 2, minute(2)),
	}
	commit(t, r, changes...)
	for _, c := range changes {
		checkVersion(t, "Current", current(t, r, c.Type, c.ID), c)
	}
	got := historyKeys(t, r, store.HistoryQuery{Count: 100})
	if len(got) != 5 {
		t.Errorf("system history has %d versions, want 5: %q", len(got), got)
	}
}
