package walhook

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/telederm/telederm/internal/store/sqlite/rowexec"
)

// TestFramesCount: a watched connection's count follows its WAL commit by
// commit, a checkpoint does not restart the count until the WAL restarts,
// and an unwatched one stops counting.
func TestFramesCount(t *testing.T) {
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "t.db")+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE t (v TEXT)")
	conn, err := rowexec.Handle(db.QueryRow(rowexec.HandleQuery))
	if err != nil {
		t.Fatal(err)
	}
	f := New()
	defer f.Free()
	f.Watch(uintptr(conn))
	if n := f.Load(); n != 0 {
		t.Fatalf("before any commit: %d frames", n)
	}
	exec("INSERT INTO t VALUES ('a')")
	one := f.Load()
	exec("INSERT INTO t VALUES ('b')")
	two := f.Load()
	if one <= 0 || two <= one {
		t.Fatalf("frames after two commits: %d then %d", one, two)
	}
	exec("PRAGMA wal_checkpoint(PASSIVE)")
	exec("INSERT INTO t VALUES ('c')") // the WAL starts again from its beginning
	if n := f.Load(); n >= two {
		t.Errorf("after a checkpoint and a commit: %d frames, had %d", n, two)
	}
	// The hook replaced the automatic checkpoint: 1,000 pages would
	// otherwise have set the WAL back.
	for range 400 {
		exec("INSERT INTO t VALUES (hex(randomblob(4000)))")
	}
	if n := f.Load(); n < 1000 {
		t.Errorf("after 400 commits of two pages or more each: %d frames; an automatic checkpoint ran", n)
	}
	Unwatch(uintptr(conn))
	before := f.Load()
	exec("INSERT INTO t VALUES ('d')")
	if n := f.Load(); n != before {
		t.Errorf("unwatched: %d frames, then %d", before, n)
	}
}
