package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/sqlite/pagecache"
	"github.com/telederm/telederm/internal/store/sqlite/walbuf"
	"github.com/telederm/telederm/internal/store/storetest"
)

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestRepository(t *testing.T) {
	storetest.RunRepositoryTests(t, func(t *testing.T) store.Repository {
		return openTest(t, t.TempDir(), Options{})
	})
}

func TestOpenCreatesDirAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := openTest(t, dir, Options{})
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
}

// TestPragmas checks the settings every connection must carry.
func TestPragmas(t *testing.T) {
	for _, level := range []Sync{SyncNormal, SyncFull} {
		s := openTest(t, t.TempDir(), Options{Synchronous: level})
		common := map[string]int{"foreign_keys": 1, "busy_timeout": 5000, "user_version": len(migrations)}
		for _, conn := range []struct {
			name string
			db   *sql.DB
			want map[string]int
		}{
			// PRAGMA synchronous reads 1 for NORMAL, 2 for FULL.
			{"writer", s.w, map[string]int{"query_only": 0, "synchronous": int(level) + 1}},
			{"reader", s.r, map[string]int{"query_only": 1}},
		} {
			maps.Copy(conn.want, common)
			for pragma, want := range conn.want {
				var got int
				if err := conn.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
					t.Errorf("%v %s: PRAGMA %s = %d, %v; want %d", level, conn.name, pragma, got, err, want)
				}
			}
		}
		var mode string
		if err := s.r.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v; want wal", mode, err)
		}
		s.Close()
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	c := store.Change{Type: "Patient", ID: "p", Version: 1, LastUpdated: time.UnixMilli(1_700_000_000_123).UTC(),
		Method: store.MethodCreate, Body: []byte(`{"v":1.10}`)}
	if err := s.Commit(t.Context(), []store.Change{c}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Close checkpointed: the WAL is empty or gone.
	if fi, err := os.Stat(filepath.Join(dir, FileName+"-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("WAL has %d bytes after Close", fi.Size())
	}
	s = openTest(t, dir, Options{})
	defer s.Close()
	v, err := s.Current(t.Context(), "Patient", "p")
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Body) != string(c.Body) || !v.LastUpdated.Equal(c.LastUpdated) || v.VersionID != 1 {
		t.Errorf("after reopen got %+v", v)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	if _, err := s.w.ExecContext(t.Context(), "PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema = %v, want an error", err)
	}
}

func TestPathWithQuestionMarkRefused(t *testing.T) {
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "what?"), Options{}); err == nil {
		t.Fatal("Open accepted a path with '?'")
	}
}

func TestTombstoneWithBodyRefused(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	c := store.Change{Type: "Patient", ID: "p", Version: 1, Method: store.MethodDelete, Deleted: true, Body: []byte("{}")}
	if err := s.Commit(t.Context(), []store.Change{c}); err == nil {
		t.Fatal("Commit accepted a deletion with a body")
	}
}

// TestQueryPlans guards the "never scan history" promise: reads go through
// indexes, and history walks an index in seq order without a sort.
func TestQueryPlans(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	filters := []any{5, 0, 9, 0, 11}
	cases := []struct {
		name, q string
		args    []any
	}{
		{"current", qCurrent, []any{"Patient", "p"}},
		{"version", qVersion, []any{"Patient", "p", 1}},
		{"lookup", qLookup, []any{"Patient", "p"}},
		{"history instance", qHistoryInstance, append([]any{"Patient", "p"}, filters...)},
		{"history type", qHistoryType, append([]any{"Patient"}, filters...)},
		{"history system", qHistorySystem, filters},
		{"blob referenced", qBlobReferenced, []any{"sha256:00"}},
	}
	for _, tc := range cases {
		rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tc.q, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		t.Logf("%s: %s", tc.name, joined)
		if strings.Contains(joined, "TEMP B-TREE") || strings.Contains(joined, "SCAN") {
			t.Errorf("%s scans or sorts: %s", tc.name, joined)
		}
	}
}

func TestDeliveries(t *testing.T) {
	storetest.RunDeliveriesTests(t, func(t *testing.T) storetest.Backend {
		return openTest(t, t.TempDir(), Options{})
	})
}

// The commit signal fires after a commit, not before.
func TestCommitSignal(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	ch := s.CommitSignal()
	select {
	case <-ch:
		t.Fatal("signal fired with no commit")
	default:
	}
	err := s.Commit(t.Context(), []store.Change{{Type: "Patient", ID: "p", Version: 1, LastUpdated: time.Now(), Method: store.MethodCreate, Body: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal after a commit")
	}
}

// Commits go through the walbuf VFS unless Options.PlainWAL says not to,
// and the store works the same either way (TestRepository runs on the
// default; this runs a commit and a read on both).
func TestWALThroughWalbuf(t *testing.T) {
	for _, plain := range []bool{false, true} {
		before := walbuf.Count()
		s := openTest(t, t.TempDir(), Options{PlainWAL: plain})
		err := s.Commit(t.Context(), []store.Change{{Type: "Patient", ID: "p", Version: 1, LastUpdated: time.Now(), Method: store.MethodCreate, Body: []byte(`{"resourceType":"Patient","id":"p"}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Current(t.Context(), "Patient", "p"); err != nil {
			t.Fatalf("PlainWAL %v: read after commit: %v", plain, err)
		}
		s.Close()
		gathered := walbuf.Count().Buffered - before.Buffered
		if plain && gathered != 0 || !plain && gathered == 0 {
			t.Errorf("PlainWAL %v: walbuf gathered %d writes", plain, gathered)
		}
	}
}

// TestPageCacheWrapped checks that the store's connections use the page
// cache wrapper (package pagecache): its commits' end-of-transaction
// truncations reach it.
func TestPageCacheWrapped(t *testing.T) {
	if err := pagecache.Err(); err != nil {
		t.Fatal(err)
	}
	before := pagecache.Count()
	s := openTest(t, t.TempDir(), Options{})
	for i := range 3 {
		id := fmt.Sprint("p", i)
		err := s.Commit(t.Context(), []store.Change{{Type: "Patient", ID: id, Version: 1, LastUpdated: time.Now(), Method: store.MethodCreate, Body: []byte(`{"resourceType":"Patient","id":"` + id + `"}`)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if after := pagecache.Count(); after.Skipped+after.Passed < before.Skipped+before.Passed+3 {
		t.Errorf("3 commits made %d truncations through the wrapper, want at least 3", after.Skipped+after.Passed-before.Skipped-before.Passed)
	}
}
