package audit

import (
	"context"
	"time"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// Record queues e for the writer and returns at once, unless the queue is
// full: then it waits for the writer, as nothing may be dropped (Stats
// counts those waits). ctx is not used to abandon the event: a request
// whose client went away is audited all the same. Record keeps
// e.Entities; the caller must not change it afterwards.
func (t *Trail) Record(_ context.Context, e Event) {
	it := item{e: e, recorded: t.now()}
	t.mu.RLock()
	if t.closed {
		t.mu.RUnlock()
		if t.stats.late.Add(1) == 1 {
			t.log.Error("audit events arrive after the trail was closed and are not written", "action", e.Action)
		}
		return
	}
	select {
	case t.queue <- it:
	default:
		t.stats.waited.Add(1)
		t.queue <- it
	}
	t.mu.RUnlock()
	t.stats.queued.Add(1)
	if len(t.queue) >= t.full {
		t.wake()
	}
}

// wake ends the writer's linger: a batch is ready or someone waits for it.
func (t *Trail) wake() {
	select {
	case t.hurry <- struct{}{}:
	default: // already signalled
	}
}

// run is the writer: it takes events off the queue in batches and appends
// each batch to the store, until Close closes the queue. It wakes
// once per batch: after the first event it sleeps for the linger time
// while Record fills the queue, instead of waking for every event (each
// wake is a trip through the scheduler, which cost the request path more
// than the writes did).
func (t *Trail) run() {
	defer close(t.stopped)
	batch := make([]item, 0, t.opts.MaxBatch)
	rows := make([]auditstore.Row, 0, t.opts.MaxBatch)
	for {
		it, ok := <-t.queue
		if !ok {
			return
		}
		if it.done == nil && len(t.queue) < t.full {
			t.linger()
		}
		batch = append(batch[:0], it)
		open := t.drain(&batch)
		rows = t.commit(batch, rows[:0])
		clear(batch) // drop references to the events' strings
		clear(rows)
		if !open {
			return
		}
	}
}

// linger sleeps for the linger time, or until a batch is ready or Flush
// or Close is waiting.
func (t *Trail) linger() {
	timer := time.NewTimer(t.opts.Linger)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.hurry:
	case <-t.closing:
	}
}

// drain adds what is queued to the batch, until it is full or a flush
// barrier ends it; false when the queue is closed and empty.
func (t *Trail) drain(batch *[]item) bool {
	if (*batch)[0].done != nil {
		return true
	}
	for len(*batch) < t.opts.MaxBatch {
		select {
		case it, ok := <-t.queue:
			if !ok {
				return false
			}
			*batch = append(*batch, it)
			if it.done != nil {
				return true
			}
		default:
			return true
		}
	}
	return true
}

// commit writes a batch, retrying while the store fails (a full disk, a
// database out of reach): requests then wait in Record rather than go
// unaudited. Once Close has begun it tries a few times only, and counts
// what it could not write. Flush barriers in the batch are released
// afterwards. Every attempt writes the same rows, keys included (see
// auditstore.Store.Append). It returns rows, for the next batch.
func (t *Trail) commit(batch []item, rows []auditstore.Row) []auditstore.Row {
	for i := range batch {
		if batch[i].done == nil {
			rows = append(rows, newRow(&batch[i], t.opts.BaseURL))
		}
	}
	n := len(rows)
	backoff := 50 * time.Millisecond
	for attempt := 1; n > 0; attempt++ {
		err := t.store.Append(context.Background(), rows)
		if err == nil {
			t.stats.written.Add(int64(n))
			t.stats.batches.Add(1)
			break
		}
		if t.stop.Load() && attempt >= 3 {
			t.stats.lost.Add(int64(n))
			t.log.Error("audit events lost: the database keeps failing while the server stops", "err", err, "events", n)
			break
		}
		t.log.Error("audit write failed; retrying", "err", err, "events", n, "attempt", attempt)
		time.Sleep(backoff)
		backoff = min(2*backoff, 5*time.Second)
	}
	for i := range batch {
		if batch[i].done != nil {
			close(batch[i].done)
		}
	}
	return rows
}
