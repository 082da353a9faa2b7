package audit

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// insertEvent is the writer's statement, one row per event. Inserting a
// batch from one JSON array (json_each) was measured slower: extracting
// the columns cost SQLite more than binding them one by one.
const insertEvent = `INSERT INTO event (recorded, started, action, resource_type, status, client, subject, who,
	patient, source, request_id, detail, entities) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`

// insertColumns is how many values insertEvent takes (write's list).
const insertColumns = 13

// prepareInsert prepares insertEvent on the writer's connection at the
// driver level. database/sql checks and converts every argument and takes
// its locks on each Exec; for a dozen arguments per event that was a
// quarter of the writer's time.
func (t *Trail) prepareInsert(ctx context.Context) error {
	return t.wc.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("audit: the SQLite driver does not prepare with a context")
		}
		st, err := p.PrepareContext(ctx, insertEvent)
		if err != nil {
			return fmt.Errorf("audit: prepare: %w", err)
		}
		ins, ok := st.(driver.StmtExecContext)
		if !ok || st.NumInput() != insertColumns {
			return errors.Join(fmt.Errorf("audit: the SQLite driver cannot run the insert statement as written"), st.Close())
		}
		t.ins = ins
		t.args = make([]driver.NamedValue, st.NumInput())
		for i := range t.args {
			t.args[i].Ordinal = i + 1
		}
		return nil
	})
}

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

// run is the writer: it takes events off the queue in batches and commits
// each batch in one transaction, until Close closes the queue. It wakes
// once per batch: after the first event it sleeps for the linger time
// while Record fills the queue, instead of waking for every event (each
// wake is a trip through the scheduler, which cost the request path more
// than the writes did).
func (t *Trail) run() {
	defer close(t.stopped)
	batch := make([]item, 0, t.opts.MaxBatch)
	defer t.fold() // leave nothing to fold at the next start
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
		t.commit(batch)
		clear(batch) // drop references to the events' strings
		if !open {
			return
		}
		if t.lastSeq >= t.foldNext {
			t.fold()
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

// commit writes a batch, retrying while the database fails (a full disk,
// say): requests then wait in Record rather than go unaudited. Once Close
// has begun it tries a few times only, and counts what it could not write.
// Flush barriers in the batch are released afterwards.
func (t *Trail) commit(batch []item) {
	n := 0
	for i := range batch {
		if batch[i].done == nil {
			n++
		}
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; n > 0; attempt++ {
		err := t.write(batch)
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
}

// write commits the events of a batch in one transaction.
func (t *Trail) write(batch []item) error {
	return t.wc.Raw(func(dc any) error {
		ctx := context.Background() // no cancellation: the driver then runs each statement in place
		begin, ok := dc.(driver.ConnBeginTx)
		if !ok {
			return fmt.Errorf("the SQLite driver does not begin with options")
		}
		tx, err := begin.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		last := t.lastSeq
		for i := range batch {
			if batch[i].done != nil {
				continue
			}
			r := newRow(&batch[i], t.opts.BaseURL)
			for j, v := range [insertColumns]any{r.recorded, r.started, r.action, r.typ, int64(r.status), r.client, r.subject, r.who,
				r.patient, r.source, r.requestID, r.detail, r.entities} {
				t.args[j].Value = v
			}
			res, err := t.ins.ExecContext(ctx, t.args)
			if err == nil {
				last, err = res.LastInsertId()
			}
			if err != nil {
				return errors.Join(fmt.Errorf("insert event: %w", err), tx.Rollback())
			}
		}
		for j := range t.args { // drop the last event's strings
			t.args[j].Value = nil
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		t.lastSeq = last
		return nil
	})
}
