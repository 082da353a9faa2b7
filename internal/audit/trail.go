package audit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver the main store uses too
)

// FileName is the audit database Open creates in the data directory: a
// file of its own, so its writer never waits for the main store's.
const FileName = "audit.db"

// walAutoCheckpointPages: see open.
const walAutoCheckpointPages = 25000

// Options tune a Trail. The zero value is a good default but for BaseURL.
type Options struct {
	// BaseURL is the server's public base URL (no trailing slash): the
	// observer of every event, and the base of fullUrl and paging links.
	BaseURL string
	// SyncFull fsyncs every batch (survives an OS crash, not only a
	// process crash), as the main store's --sync full.
	SyncFull bool
	// QueueSize is how many events may wait for the writer before Record
	// blocks; 0 means 8192.
	QueueSize int
	// MaxBatch is the most events written in one transaction; 0 means 1000.
	MaxBatch int
	// Linger is how long the writer lets events gather after the first of
	// a batch before it commits; 0 means 5ms. Flush and Close wait as long.
	Linger time.Duration
	// Readers caps the connections serving reads and searches; 0 means
	// max(2, GOMAXPROCS).
	Readers int
	Logger  *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.Linger <= 0 {
		o.Linger = 5 * time.Millisecond
	}
	if o.Readers <= 0 {
		o.Readers = max(2, runtime.GOMAXPROCS(0))
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	return o
}

// Trail is the audit trail: a Recorder whose events a background writer
// appends to dir/audit.db, and the reader of those events as AuditEvent
// resources (rest.AuditTrail). It is safe for concurrent use.
type Trail struct {
	opts   Options
	log    *slog.Logger
	ids    ids
	params params           // the search parameters the trail answers
	now    func() time.Time // the clock of recorded times; tests set it

	w, r *sql.DB // one writer connection; a pool of query-only readers
	// The writer's connection, held for the trail's life, and its insert
	// statement at the driver level (writer.go says why).
	wc   *sql.Conn
	ins  driver.StmtExecContext
	args []driver.NamedValue
	// The writer's own: the last event written, the last folded into ix,
	// how many may wait unfolded and when to fold next.
	lastSeq, folded, foldEvery, foldNext int64

	// mu is held shared by Record while it queues, exclusively by Close
	// while it marks the trail closed: no event is queued after the
	// writer's last look at the queue.
	mu      sync.RWMutex
	closed  bool
	queue   chan item
	stop    atomic.Bool   // Close has begun: a failing batch is retried only briefly
	closing chan struct{} // closed when Close begins: the writer stops lingering
	hurry   chan struct{} // a batch is ready or Flush waits: the writer stops lingering
	full    int           // queued events that make a batch worth writing at once
	stopped chan struct{} // closed when the writer has written everything
	stats   counters
}

// item is one queued event, or a flush barrier (done set, no event).
type item struct {
	e        Event
	recorded time.Time
	done     chan struct{}
}

// Stats are counters since Open, for tests, benchmarks and operators.
type Stats struct {
	Queued  int64 // events accepted by Record
	Written int64 // events committed to the database
	// Waited counts the Record calls that found the queue full and waited
	// for the writer (back-pressure on the request path).
	Waited  int64
	Batches int64 // transactions committed
	// Lost counts events that could not be written before Close gave up
	// on a failing database; Late those recorded after Close.
	Lost, Late int64
}

type counters struct {
	queued, written, waited, batches, lost, late atomic.Int64
}

// Open opens, or creates, dir/audit.db and starts the writer.
func Open(ctx context.Context, dir string, opts Options) (*Trail, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("audit: database path %q must not contain '?'", path)
	}
	t := &Trail{opts: opts, log: opts.Logger, params: newParams(), now: time.Now, foldEvery: foldEvents, queue: make(chan item, opts.QueueSize),
		closing: make(chan struct{}), hurry: make(chan struct{}, 1), stopped: make(chan struct{})}
	t.full = min(opts.MaxBatch, max(1, opts.QueueSize/2))
	if err := t.open(ctx, path); err != nil {
		return nil, errors.Join(err, t.closeDBs())
	}
	go t.run()
	return t, nil
}

func (t *Trail) open(ctx context.Context, path string) error {
	durability := "NORMAL"
	if t.opts.SyncFull {
		durability = "FULL"
	}
	w := url.Values{}
	w.Set("_busy_timeout", "5000")
	w.Set("_journal_mode", "WAL")
	w.Set("_synchronous", durability)
	w.Set("_txlock", "immediate")
	var err error
	if t.w, err = sql.Open("sqlite3", path+"?"+w.Encode()); err != nil {
		return fmt.Errorf("audit: open %s: %w", path, err)
	}
	t.w.SetMaxOpenConns(1)
	t.w.SetMaxIdleConns(1)
	t.w.SetConnMaxLifetime(0)
	t.w.SetConnMaxIdleTime(0)
	var mode string
	if err := t.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("audit: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("audit: %s: journal mode is %q, want wal (is the file system local?)", path, mode)
	}
	key, err := migrate(ctx, t.w)
	if err != nil {
		return err
	}
	if t.ids, err = newIDs(key); err != nil {
		return err
	}
	if err := t.w.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0), "+folded+" FROM event").Scan(&t.lastSeq, &t.folded); err != nil {
		return fmt.Errorf("audit: read the last event: %w", err)
	}
	t.foldNext = t.folded + t.foldEvery
	if t.wc, err = t.w.Conn(ctx); err != nil {
		return fmt.Errorf("audit: writer connection: %w", err)
	}
	// SQLite folds the WAL into the file inside whichever commit passes
	// the threshold, syncing the file: every 1,000 pages by default, which
	// the index folds (fold.go) pass every few seconds under load. 25,000
	// pages (100 MiB) measured 15% less writer time per event; Close
	// empties the WAL.
	if _, err := t.wc.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutoCheckpointPages)); err != nil {
		return fmt.Errorf("audit: set checkpoint threshold: %w", err)
	}
	if err := t.prepareInsert(ctx); err != nil {
		return err
	}
	r := url.Values{}
	r.Set("_busy_timeout", "5000")
	r.Set("_query_only", "1")
	if t.r, err = sql.Open("sqlite3", path+"?"+r.Encode()); err != nil {
		return fmt.Errorf("audit: open readers: %w", err)
	}
	t.r.SetMaxOpenConns(t.opts.Readers)
	t.r.SetMaxIdleConns(t.opts.Readers)
	return nil
}

// Stats returns the counters so far.
func (t *Trail) Stats() Stats {
	c := &t.stats
	return Stats{
		Queued: c.queued.Load(), Written: c.written.Load(), Waited: c.waited.Load(),
		Batches: c.batches.Load(), Lost: c.lost.Load(), Late: c.late.Load(),
	}
}

// Flush waits until every event recorded before it was called is
// committed, or ctx ends.
func (t *Trail) Flush(ctx context.Context) error {
	done := make(chan struct{})
	t.mu.RLock()
	if t.closed {
		t.mu.RUnlock()
		done = t.stopped // Close writes everything queued
	} else {
		select {
		case t.queue <- item{done: done}:
			t.mu.RUnlock()
			t.wake()
		case <-ctx.Done():
			t.mu.RUnlock()
			return ctx.Err()
		}
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting events, writes every queued one and closes the
// database. Call it after the HTTP server has drained, so that the last
// requests are in the trail. It reports events it could not write.
func (t *Trail) Close() error {
	t.stop.Store(true)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.closing)
	close(t.queue)
	t.mu.Unlock()
	<-t.stopped
	var err error
	if n := t.stats.lost.Load(); n > 0 {
		err = fmt.Errorf("audit: %d events could not be written", n)
	}
	// Fold the WAL into the file, so that a copy of audit.db alone is
	// complete once the server has stopped.
	if _, cerr := t.wc.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); cerr != nil {
		err = errors.Join(err, fmt.Errorf("audit: checkpoint: %w", cerr))
	}
	return errors.Join(err, t.closeDBs())
}

func (t *Trail) closeDBs() error {
	var errs []error
	if t.wc != nil {
		if t.ins != nil {
			errs = append(errs, t.wc.Raw(func(any) error { return t.ins.(driver.Stmt).Close() }))
		}
		errs = append(errs, t.wc.Close())
	}
	for _, db := range []*sql.DB{t.r, t.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}
