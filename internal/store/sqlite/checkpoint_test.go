package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// TestCheckpoints writes one resource per commit with small thresholds
// and checks who folded the WAL into the database file and that the WAL
// kept restarting from its beginning (the frame count fell back) rather
// than growing, with every resource still there after a reopen.
func TestCheckpoints(t *testing.T) {
	const commits = 1500
	unchecked := int64(0) // the WAL's size with no checkpoint at all
	for _, tc := range []struct {
		name               string
		start, tail, limit int64
		wantPasses         bool // on the checkpointer's connection
		wantRestarts       bool
	}{
		// Neither: the writer no longer checkpoints by itself.
		{name: "none", start: 1 << 40, tail: 16, limit: 1 << 40},
		// The checkpointer catches up and the leader folds the tail.
		{name: "checkpointer", start: 64, tail: 16, limit: 1 << 40, wantPasses: true, wantRestarts: true},
		// The checkpointer never starts: the leader's backstop folds.
		{name: "backstop", start: 1 << 40, tail: 16, limit: 256, wantRestarts: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, Options{})
			s.ckpt.start, s.ckpt.tail, s.ckpt.limit = tc.start, tc.tail, tc.limit
			restarts, peak, last := 0, int64(0), int64(0)
			for i := range commits {
				name := search.Entry{Param: "name", Kind: search.String, Text: fmt.Sprint("n", i), Exact: fmt.Sprint("N", i)}
				if err := s.Commit(t.Context(), []store.Change{change("Patient", fmt.Sprint("p", i), 1, name)}); err != nil {
					t.Fatal(err)
				}
				n := s.frames.Load()
				if n < last {
					restarts++
				}
				last, peak = n, max(peak, n)
			}
			passes, folds := s.ckpt.passes.Load(), s.ckpt.folds.Load()
			t.Logf("%d commits: WAL restarted %d times, at most %d frames; %d checkpointer passes, %d leader folds",
				commits, restarts, peak, passes, folds)
			if got := passes > 0; got != tc.wantPasses {
				t.Errorf("checkpointer passes: %d", passes)
			}
			if got := restarts > 0; got != tc.wantRestarts {
				t.Errorf("WAL restarts: %d", restarts)
			}
			if !tc.wantRestarts {
				unchecked = peak
				if folds != 0 {
					t.Errorf("the leader folded %d times", folds)
				}
			} else if unchecked > 0 && peak > unchecked/2 {
				t.Errorf("WAL reached %d frames, %d with no checkpoint", peak, unchecked)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(filepath.Join(dir, FileName+"-wal")); err == nil && fi.Size() > 0 {
				t.Errorf("WAL left with %d bytes after Close", fi.Size())
			}
			s = openTest(t, dir, Options{})
			defer s.Close()
			var n int
			if err := s.r.QueryRowContext(t.Context(), "SELECT count(*) FROM resource").Scan(&n); err != nil || n != commits {
				t.Errorf("after reopening: %d resources, %v; want %d", n, err, commits)
			}
		})
	}
}
