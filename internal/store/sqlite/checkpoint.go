package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telederm/telederm/internal/store/sqlite/walhook"
)

// Checkpoints fold the WAL into the database file. SQLite's automatic
// checkpoint runs inside the commit that crosses its threshold, so the
// leader, and every commit queued behind it, waited for the whole
// checkpoint: on ingest about a second (400 MiB written and synced) every
// ten, with the cores idle. Here a checkpointer does that work on a
// connection of its own while the leader goes on committing, and the
// leader only folds what is left once the checkpointer has caught up, so
// that the WAL is wholly checkpointed when the next write transaction
// begins and SQLite starts it again from its beginning. (A WAL that is
// never wholly checkpointed under sustained writes is never restarted: it
// grows, and with it the wal-index every page lookup searches.)
const (
	// ckptStartFrames is the WAL size (pages of 4 KiB) at which the
	// checkpointer starts: 400 MiB. Index writes dirty pages all over the
	// index B-trees, and a checkpoint writes each distinct page once
	// however often the WAL holds it, so a larger WAL means fewer page
	// writes per commit as the database grows. Measured on ingest of
	// 120,000 resources with the checkpoint in the commit: 2,735
	// resources/s at 20,000 pages, 3,177 at 100,000.
	ckptStartFrames = 100000
	// ckptTailFrames is how far behind the last commit the checkpointer
	// may end for the leader to fold the rest itself (8 MiB): small enough
	// to take milliseconds, large enough that the checkpointer, which
	// chases a WAL the leader keeps appending to, gets there.
	ckptTailFrames = 2000
	// ckptLimitFrames is the WAL size at which the leader stops to fold
	// the WAL itself, waiting for the checkpointer's pass first: the
	// backstop for a disk slower than the writes (1.6 GiB).
	ckptLimitFrames = 4 * ckptStartFrames
	// ckptRetry is the pause before another pass when the last one could
	// copy nothing new.
	ckptRetry = 20 * time.Millisecond
)

// Checkpointer states.
const (
	ckptIdle     int32 = iota // WAL below ckptStartFrames, or just restarted
	ckptRunning               // passes on the checkpointer's connection
	ckptCaughtUp              // within ckptTailFrames: the leader folds the rest
)

// checkpointer runs PASSIVE checkpoints on its own connection when the
// leader asks. A PASSIVE checkpoint copies what it can without waiting
// for, or blocking, the writer or readers.
type checkpointer struct {
	db     *sql.DB         // one connection, not the writer
	frames *walhook.Frames // the writer's WAL size after its last commit
	// start, tail and limit are ckptStartFrames, ckptTailFrames and
	// ckptLimitFrames (smaller in tests).
	start, tail, limit int64
	state              atomic.Int32
	pass               sync.Mutex // held while a checkpoint runs, on either connection
	kick               chan struct{}
	stop               chan struct{}
	done               chan struct{}
	// passes and folds count the checkpoints run on the checkpointer's
	// connection and on the writer, for tests.
	passes, folds atomic.Int64
}

func newCheckpointer(db *sql.DB, frames *walhook.Frames) *checkpointer {
	c := &checkpointer{db: db, frames: frames, start: ckptStartFrames, tail: ckptTailFrames, limit: ckptLimitFrames,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// run is the checkpointer's goroutine: on each kick it checkpoints again
// and again until it ends within ckptTailFrames of the writer.
func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		last, behind := int64(-1), int64(math.MaxInt64)
		for {
			done, err := c.checkpoint(c.db)
			if err != nil {
				// Left to the next kick; the leader's backstop keeps the
				// WAL bounded meanwhile.
				c.state.Store(ckptIdle)
				break
			}
			// Each pass copies what the last one left behind; when that
			// stops shrinking, the writes outpace the passes and the
			// leader had better fold the rest than wait for a tail that
			// will not come.
			was := behind
			if behind = c.frames.Load() - done; behind <= c.tail || behind >= was {
				c.state.Store(ckptCaughtUp)
				break
			}
			wait := time.Duration(0)
			if done == last {
				// No progress: a reader holds a snapshot older than the
				// frames left. Readers hold one for a query at a time.
				wait = ckptRetry
			}
			last = done
			select {
			case <-c.stop:
				return
			case <-time.After(wait):
			}
		}
	}
}

// checkpoint runs one PASSIVE checkpoint on db and returns the number of
// WAL frames now in the database file.
func (c *checkpointer) checkpoint(db *sql.DB) (int64, error) {
	c.pass.Lock()
	defer c.pass.Unlock()
	if db == c.db {
		c.passes.Add(1)
	} else {
		c.folds.Add(1)
	}
	var busy, log, done int64
	if err := db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
		return 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return done, nil
}

// tend is the leader's part, after each commit group, on the writer w
// (no transaction open): start the checkpointer when the WAL is large,
// fold the tail it leaves, and fold everything itself past the limit.
func (c *checkpointer) tend(w *sql.DB) {
	n := c.frames.Load()
	switch st := c.state.Load(); {
	case st == ckptCaughtUp || n >= c.limit:
	case st == ckptIdle && n >= c.start:
		c.state.Store(ckptRunning)
		c.kick <- struct{}{} // never blocks: only the leader kicks, once per run
		return
	default:
		return
	}
	// Folded here, the WAL is wholly in the database file, so the next
	// write transaction restarts it (unless a reader still reads an older
	// snapshot; then a later fold will).
	if _, err := c.checkpoint(w); err == nil && c.state.Load() == ckptCaughtUp {
		c.state.Store(ckptIdle)
	}
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
