package mongo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
	"github.com/telederm/telederm/internal/auth/authstate/statetest"
)

func openAuthState(t *testing.T, s *Store) *AuthState {
	t.Helper()
	a, err := s.AuthState(context.Background())
	if err != nil {
		t.Fatalf("AuthState: %v", err)
	}
	return a
}

func TestAuthState(t *testing.T) {
	statetest.Run(t, func(t *testing.T) authstate.State {
		s := openTest(t, Options{AllowNonAtomic: true})
		t.Cleanup(func() { s.Close() })
		return openAuthState(t, s)
	})
}

// TestAuthStateTwoProcesses: two Stores on one database see each other's
// documents and records, and a document version or a record key is won
// by one of them.
func TestAuthStateTwoProcesses(t *testing.T) {
	a := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { a.Close() })
	b := openTest(t, Options{AllowNonAtomic: true, Database: a.db.Name()})
	t.Cleanup(func() { b.Close() })
	sa, sb := openAuthState(t, a), openAuthState(t, b)
	if _, err := b.AuthState(context.Background()); err != nil { // indexes exist: nothing to do
		t.Fatalf("a second AuthState on the database: %v", err)
	}
	ctx := context.Background()
	t.Logf("expired records removed by a TTL index: %v (else by the writers' sweeps)", sa.ttl)

	v, err := sa.SaveDoc(ctx, "keys", []byte(`{"keys":[]}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := sb.DocVersion(ctx, "keys"); err != nil || got != v {
		t.Fatalf("B sees version %d, %v; want A's %d", got, err, v)
	}
	if _, err := sb.SaveDoc(ctx, "keys", []byte(`{"by":"b"}`), v); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.SaveDoc(ctx, "keys", []byte(`{"by":"a"}`), v); !errors.Is(err, authstate.ErrConflict) {
		t.Fatalf("A writing over the version B replaced: %v, want ErrConflict", err)
	}
	if data, _, err := sa.LoadDoc(ctx, "keys"); err != nil || string(data) != `{"by":"b"}` {
		t.Fatalf("A reads %s, %v; want B's document", data, err)
	}

	rec := authstate.Record{Key: "jti", Data: []byte(`{}`), Expires: time.Now().Add(time.Minute)}
	if err := sa.Insert(ctx, "assertion", rec); err != nil {
		t.Fatal(err)
	}
	if err := sb.Insert(ctx, "assertion", rec); !errors.Is(err, authstate.ErrExists) {
		t.Fatalf("B inserting A's key: %v, want ErrExists", err)
	}
}

// TestAuthStateKeepsFewVersions: old document versions (which hold
// retired signing keys) are removed; a writer whose version has since
// been removed is refused all the same.
func TestAuthStateKeepsFewVersions(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { s.Close() })
	a := openAuthState(t, s)
	ctx := context.Background()
	var v int64
	for range 5 {
		var err error
		if v, err = a.SaveDoc(ctx, "users", []byte(`{}`), v); err != nil {
			t.Fatal(err)
		}
	}
	n, err := a.docs.CountDocuments(ctx, map[string]string{"name": "users"})
	if err != nil || n > 2 {
		t.Fatalf("%d versions kept, %v; want at most 2", n, err)
	}
	if _, err := a.SaveDoc(ctx, "users", []byte(`{"stale":true}`), 1); !errors.Is(err, authstate.ErrConflict) {
		t.Fatalf("writing over version 1 of 5: %v, want ErrConflict", err)
	}
	if data, got, err := a.LoadDoc(ctx, "users"); err != nil || got != v || string(data) != `{}` {
		t.Fatalf("after the stale write: %s version %d, %v; want {} version %d", data, got, err, v)
	}
}

// TestAuthStateSweepsExpiredRecords: where the server has no TTL index
// (FerretDB), writers remove expired records, at most once a minute.
func TestAuthStateSweepsExpiredRecords(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { s.Close() })
	a := openAuthState(t, s)
	if a.ttl {
		t.Skip("this server removes expired records itself (TTL index)")
	}
	ctx := context.Background()
	now := time.Now()
	a.now = func() time.Time { return now }
	count := func() int64 {
		n, err := a.recs.CountDocuments(ctx, map[string]string{"kind": "launch"})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, r := range []authstate.Record{
		{Key: "old", Data: []byte(`{}`), Expires: now.Add(time.Second)},
		{Key: "live", Data: []byte(`{}`), Expires: now.Add(time.Hour)},
	} {
		if err := a.Insert(ctx, "launch", r); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(30 * time.Second) // "old" has expired; a sweep ran less than a minute ago
	if err := a.Insert(ctx, "code", authstate.Record{Key: "x", Data: []byte(`{}`), Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d launch records before the next sweep is due, want 2", n)
	}
	now = now.Add(authSweepEvery)
	if err := a.Insert(ctx, "code", authstate.Record{Key: "y", Data: []byte(`{}`), Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d launch records after the sweep, want 1 (the live one)", n)
	}
}
