package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// Options tune a Trail. The zero value is a good default but for BaseURL.
type Options struct {
	// BaseURL is the server's public base URL (no trailing slash): the
	// observer of every event, and the base of fullUrl and paging links.
	BaseURL string
	// SyncFull fsyncs every batch (survives an OS crash, not only a
	// process crash), as the main store's --sync full. SQLite only.
	SyncFull bool
	// QueueSize is how many events may wait for the writer before Record
	// blocks; 0 means 8192.
	QueueSize int
	// MaxBatch is the most events appended to the store at once (one
	// transaction on SQLite); 0 means 1000.
	MaxBatch int
	// Linger is how long the writer lets events gather after the first of
	// a batch before it commits; 0 means 5ms. Flush and Close wait as long.
	Linger time.Duration
	// Readers caps the SQLite connections serving reads and searches; 0
	// means max(2, GOMAXPROCS).
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
// appends to its store, and the reader of those events as AuditEvent
// resources (rest.AuditTrail). It is safe for concurrent use.
type Trail struct {
	opts   Options
	log    *slog.Logger
	store  auditstore.Store
	ids    ids
	params params           // the search parameters the trail answers
	now    func() time.Time // the clock of recorded times; tests set it

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
	Batches int64 // batches committed
	// Lost counts events that could not be written before Close gave up
	// on a failing database; Late those recorded after Close.
	Lost, Late int64
}

type counters struct {
	queued, written, waited, batches, lost, late atomic.Int64
}

// Open opens, or creates, dir/audit.db and starts the writer: the trail
// of one process, as the embedded store has it.
func Open(ctx context.Context, dir string, opts Options) (*Trail, error) {
	opts = opts.withDefaults()
	s, err := openSQLite(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	t, err := OpenStore(s, opts)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return t, nil
}

// OpenStore starts a trail, and its writer, on a store: with a store
// several processes share, each process's trail sees the events of all.
// Close closes the store.
func OpenStore(s auditstore.Store, opts Options) (*Trail, error) {
	opts = opts.withDefaults()
	x, err := newIDs(s.IDKey())
	if err != nil {
		return nil, err
	}
	t := &Trail{opts: opts, log: opts.Logger, store: s, ids: x, params: newParams(), now: time.Now, queue: make(chan item, opts.QueueSize),
		closing: make(chan struct{}), hurry: make(chan struct{}, 1), stopped: make(chan struct{})}
	t.full = min(opts.MaxBatch, max(1, opts.QueueSize/2))
	go t.run()
	return t, nil
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
	return errors.Join(err, t.store.Close())
}
