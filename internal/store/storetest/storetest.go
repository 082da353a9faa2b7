// Package storetest is the behavioural test suite that every
// store.Repository backend runs, so SQLite and MongoDB behave alike.
package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// RunRepositoryTests runs the suite. newRepo must return a new, empty
// repository on every call; subtests run in parallel, each with its own.
// The suite closes every repository it gets (some twice: a second Close must
// not panic), so newRepo need not.
//
// Conflict and InvalidChange commit several changes of which one fails, and
// check that none was written: a backend without multi-document
// transactions passes them only by checking every change before it writes
// any (which a concurrent writer can still defeat).
func RunRepositoryTests(t *testing.T, newRepo func(t *testing.T) store.Repository) {
	open := func(t *testing.T) store.Repository {
		t.Helper()
		r := newRepo(t)
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	groups := []struct {
		name string
		run  func(*testing.T, func(*testing.T) store.Repository)
	}{
		{"Read", testRead},
		{"Body", testBody},
		{"NotFound", testNotFound},
		{"Versions", testVersions},
		{"MethodAndBlobRef", testMethodAndBlobRef},
		{"Tombstone", testTombstone},
		{"Conflict", testConflict},
		{"InvalidChange", testInvalidChange},
		{"AtomicCommit", testAtomicCommit},
		{"History", testHistory},
		{"HistoryStableCursor", testHistoryStableCursor},
		{"HistorySince", testHistorySince},
		{"HistoryAt", testHistoryAt},
		{"HistoryErrors", testHistoryErrors},
		{"ConcurrentCAS", testConcurrentCAS},
		{"ConcurrentRetry", testConcurrentRetry},
		{"ConcurrentCreate", testConcurrentCreate},
		{"Canceled", testCanceled},
		{"Close", testClose},
		{"CloseWhileCommitting", testCloseWhileCommitting},
		{"Search", testSearch},
		{"MetaInUse", testMetaInUse},
		{"BlobReferenced", testBlobReferenced},
		{"Changes", testChanges},
		{"ChangesWhileWriting", testChangesWhileWriting},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open)
		})
	}
}

// t0 is the fixtures' epoch; minute(n) is n minutes after it. Times carry
// millisecond precision at most, as meta.lastUpdated does.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

func body(typ, id string, version int64) []byte {
	return fmt.Appendf(nil, `{"resourceType":%q,"id":%q,"meta":{"versionId":"%d"}}`, typ, id, version)
}

// write is the change that makes version of typ/id, created or updated.
func write(typ, id string, version int64, at time.Time) store.Change {
	m := store.MethodUpdate
	if version == 1 {
		m = store.MethodCreate
	}
	return store.Change{Type: typ, ID: id, PrevVersion: version - 1, Version: version,
		LastUpdated: at, Method: m, Body: body(typ, id, version)}
}

// tombstone is the change that deletes typ/id as version.
func tombstone(typ, id string, version int64, at time.Time) store.Change {
	return store.Change{Type: typ, ID: id, PrevVersion: version - 1, Version: version,
		LastUpdated: at, Method: store.MethodDelete, Deleted: true}
}

func commit(t *testing.T, r store.Repository, changes ...store.Change) {
	t.Helper()
	if err := r.Commit(t.Context(), changes); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func current(t *testing.T, r store.Repository, typ, id string) *store.Version {
	t.Helper()
	v, err := r.Current(t.Context(), typ, id)
	if err != nil {
		t.Fatalf("Current(%s/%s): %v", typ, id, err)
	}
	return v
}

// checkVersion fails the test unless got is exactly what c wrote.
func checkVersion(t *testing.T, what string, got *store.Version, c store.Change) {
	t.Helper()
	switch {
	case got == nil:
		t.Errorf("%s: nil version, want %s", what, key(c.Type, c.ID, c.Version))
	case got.Type != c.Type || got.ID != c.ID || got.VersionID != c.Version:
		t.Errorf("%s: got %s, want %s", what, key(got.Type, got.ID, got.VersionID), key(c.Type, c.ID, c.Version))
	case !got.LastUpdated.Equal(c.LastUpdated):
		t.Errorf("%s: LastUpdated %v, want %v", what, got.LastUpdated, c.LastUpdated)
	case got.Method != c.Method || got.Deleted != c.Deleted || got.BlobRef != c.BlobRef:
		t.Errorf("%s: (method, deleted, blobRef) = (%q, %v, %q), want (%q, %v, %q)", what,
			got.Method, got.Deleted, got.BlobRef, c.Method, c.Deleted, c.BlobRef)
	case !bytes.Equal(got.Body, c.Body) || (got.Body == nil) != (c.Body == nil):
		t.Errorf("%s: Body %q, want %q", what, got.Body, c.Body)
	}
}

func key(typ, id string, version int64) string {
	return fmt.Sprintf("%s/%s/_history/%d", typ, id, version)
}
