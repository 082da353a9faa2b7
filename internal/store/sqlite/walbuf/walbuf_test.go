package walbuf

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func open(t testing.TB, path string, vfs bool, extra string) *sql.DB {
	t.Helper()
	if err := Register(); err != nil {
		t.Fatal(err)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000" + extra
	if vfs {
		dsn += "&vfs=" + Name
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t testing.TB, db *sql.DB) (n, sum int64) {
	t.Helper()
	if err := db.QueryRow("SELECT count(*), coalesce(sum(v), 0) FROM t").Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	return n, sum
}

// TestWritesThroughWalbuf runs a write load that takes SQLite through
// every WAL path the VFS has a rule for, with a second connection reading
// after each commit: commits of one to hundreds of pages, transactions
// larger than the page cache (spilled frames, pages overwritten in place
// and checksums rewritten at commit), rollbacks (the next transaction
// writes over the abandoned frames), checkpoints that restart the WAL at
// offset 0, and synchronous=FULL (a sync at every commit). The reader
// must see exactly what was committed each time, and at the end the file,
// opened with SQLite's own VFS, must hold it and pass integrity_check.
func TestWritesThroughWalbuf(t *testing.T) {
	for _, sync := range []string{"NORMAL", "FULL"} {
		t.Run(sync, func(t *testing.T) {
			before := Count()
			path := filepath.Join(t.TempDir(), "w.db")
			// A small page cache makes big transactions spill.
			w := open(t, path, true, "&_synchronous="+sync+"&_cache_size=20")
			r := open(t, path, true, "&_query_only=1")
			exec1(t, w, "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v INTEGER, pad BLOB)")
			exec1(t, w, "CREATE INDEX t_k ON t (k)")
			rng := rand.New(rand.NewPCG(1, 2))
			var wantN, wantSum int64
			next := int64(1)
			for round := range 300 {
				tx, err := w.Begin()
				if err != nil {
					t.Fatal(err)
				}
				rows := 1 + rng.IntN(5)
				if round%25 == 7 {
					rows = 2000 // larger than the cache: spills
				}
				var addSum int64
				for range rows {
					v := rng.Int64N(1000)
					k := strconv.FormatUint(rng.Uint64(), 36) // random: pages all over the index
					if _, err := tx.Exec("INSERT INTO t (id, k, v, pad) VALUES (?, ?, ?, randomblob(?))", next, k, v, 50+rng.IntN(400)); err != nil {
						t.Fatal(err)
					}
					next++
					addSum += v
				}
				if round%10 == 3 {
					// Rewrite earlier rows in the same transaction: pages
					// written to the WAL by a spill get written again.
					if _, err := tx.Exec("UPDATE t SET pad = randomblob(300) WHERE id % 7 = ?", round%7); err != nil {
						t.Fatal(err)
					}
				}
				if round%9 == 4 {
					if err := tx.Rollback(); err != nil {
						t.Fatal(err)
					}
					next -= int64(rows)
				} else {
					if err := tx.Commit(); err != nil {
						t.Fatalf("round %d: commit: %v", round, err)
					}
					wantN += int64(rows)
					wantSum += addSum
				}
				if n, sum := count(t, r); n != wantN || sum != wantSum {
					t.Fatalf("round %d: the reader sees %d rows summing to %d, want %d and %d", round, n, sum, wantN, wantSum)
				}
				if round%40 == 39 {
					// Fold the WAL into the database; the next commit
					// starts the WAL again from its header.
					mode := []string{"PASSIVE", "RESTART", "TRUNCATE"}[round/40%3]
					exec1(t, w, "PRAGMA wal_checkpoint("+mode+")")
				}
			}
			var ok string
			if err := r.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
				t.Fatalf("integrity_check through walbuf: %q, %v", ok, err)
			}
			// The load went through the VFS, and took both its paths.
			c := Count().minus(before)
			t.Logf("%+v", c)
			if c.Buffered == 0 || c.Direct == 0 || c.FlushCalls == 0 || c.FlushCalls*4 > c.Buffered {
				t.Fatalf("counters %+v: want gathered writes, several per write call, and some direct ones", c)
			}
			w.Close()
			r.Close()
			plain := open(t, path, false, "")
			if n, sum := count(t, plain); n != wantN || sum != wantSum {
				t.Fatalf("reopened with SQLite's own VFS: %d rows summing to %d, want %d and %d", n, sum, wantN, wantSum)
			}
			if err := plain.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
				t.Fatalf("integrity_check with SQLite's own VFS: %q, %v", ok, err)
			}
		})
	}
}

// TestCommitsSurviveSIGKILL kills a process that commits through walbuf,
// at random moments, and checks that every commit it had reported is in
// the file, which SQLite's own VFS opens and recovers without complaint.
func TestCommitsSurviveSIGKILL(t *testing.T) {
	if path := os.Getenv("WALBUF_CHILD_DB"); path != "" {
		childWriter(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "k.db")
	rng := rand.New(rand.NewPCG(3, 4))
	var committed int64
	for run := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestCommitsSurviveSIGKILL$")
		cmd.Env = append(os.Environ(), "WALBUF_CHILD_DB="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		deadline := time.After(time.Duration(200+rng.IntN(400)) * time.Millisecond)
		got := make(chan int64)
		go func() {
			defer close(got)
			for lines.Scan() {
				if n, err := strconv.ParseInt(strings.TrimPrefix(lines.Text(), "committed "), 10, 64); err == nil {
					got <- n
				}
			}
		}()
	read:
		for {
			select {
			case n, ok := <-got:
				if !ok {
					break read
				}
				committed = max(committed, n)
			case <-deadline:
				break read
			}
		}
		cmd.Process.Kill()
		for n := range got { // lines written before the kill
			committed = max(committed, n)
		}
		cmd.Wait()
		db := open(t, path, false, "")
		var maxID int64
		if err := db.QueryRow("SELECT coalesce(max(id), 0) FROM t").Scan(&maxID); err != nil {
			t.Fatalf("run %d: read after kill: %v", run, err)
		}
		if maxID < committed {
			t.Fatalf("run %d: the child reported commit %d, the file holds up to %d", run, committed, maxID)
		}
		var ok string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Fatalf("run %d: integrity_check: %q, %v", run, ok, err)
		}
		db.Close()
		t.Logf("run %d: killed after commit %d; the file holds %d", run, committed, maxID)
	}
	if committed == 0 {
		t.Fatal("the child committed nothing before it was killed")
	}
}

// childWriter commits rows until it is killed, reporting each commit on
// stdout once COMMIT has returned.
func childWriter(t *testing.T, path string) {
	db := open(t, path, true, "&_synchronous=NORMAL")
	ctx := context.Background()
	exec1(t, db, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, k TEXT, pad BLOB)")
	exec1(t, db, "CREATE INDEX IF NOT EXISTS t_k ON t (k)")
	var next int64
	if err := db.QueryRow("SELECT coalesce(max(id), 0) + 1 FROM t").Scan(&next); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(next), 5))
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 1 + rng.IntN(50) {
			if _, err := tx.Exec("INSERT INTO t (id, k, pad) VALUES (?, ?, randomblob(200))", next, strconv.FormatUint(rng.Uint64(), 36)); err != nil {
				t.Fatal(err)
			}
			next++
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d\n", next-1)
	}
}

func (c Counters) minus(d Counters) Counters {
	return Counters{Buffered: c.Buffered - d.Buffered, Direct: c.Direct - d.Direct, FlushCalls: c.FlushCalls - d.FlushCalls}
}
