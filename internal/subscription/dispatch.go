package subscription

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/store"
)

// The dispatcher reads the commit log (store.Repository.Changes) after
// its cursor, in commit order, and matches each version against the live
// subscriptions as they stood at that point of the log: a Subscription's
// own versions pass through it too, and change the index from there on.
// Each step records its events and its cursor in one transaction
// (store.Deliveries.Dispatch), so after a crash the log is read again from
// the last recorded cursor, and no event is lost or numbered twice.
//
// Steps that found no event and changed no subscription are not recorded
// at once (reading them again finds nothing again); the cursor is saved
// when the dispatcher is idle or every flushEvery changes.
const flushEvery = 10000

// load (re)builds the dispatcher's state from the store: its cursor, and
// the subscriptions at the versions it had applied.
func (m *Manager) load(ctx context.Context) error {
	cursor, states, err := m.cfg.State.LoadDispatch(ctx)
	if err != nil {
		return err
	}
	m.cursor, m.dirty, m.index = cursor, 0, newMatchIndex()
	for _, st := range states {
		v, err := m.cfg.Repo.Version(ctx, "Subscription", st.ID, st.Version)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		spec, issues := m.applied(&store.Committed{Version: *v})
		m.syncWorker(spec, issues, v.Deleted)
	}
	return nil
}

// applied files (or unfiles) a Subscription version in the index and
// returns it read.
func (m *Manager) applied(c *store.Committed) (*Spec, []fhir.Issue) {
	if c.Deleted {
		m.index.remove(c.ID)
		return &Spec{ID: c.ID, Version: c.VersionID}, nil
	}
	spec, issues := m.parseSpec(c.Body, c.VersionID)
	spec.ID = c.ID
	if spec.live() && len(issues) == 0 {
		m.index.put(spec)
	} else {
		m.index.remove(c.ID)
	}
	return spec, issues
}

func (m *Manager) dispatchLoop() {
	defer m.wg.Done()
	ctx := m.ctx
	for {
		var signal <-chan struct{}
		if m.cfg.CommitSignal != nil {
			signal = m.cfg.CommitSignal() // taken before reading: no commit slips between
		}
		n, err := m.dispatchOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			m.log.Error("subscription dispatch failed; retrying", "err", err)
			if !sleep(ctx, m.timing.Poll) {
				return
			}
			if err := m.load(ctx); err != nil && ctx.Err() == nil {
				m.log.Error("subscription state reload failed", "err", err)
			}
			continue
		}
		if n >= m.timing.Batch {
			continue
		}
		t := time.NewTimer(m.timing.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-signal:
			// Let the commits of the next few milliseconds join this
			// read: under load one read then covers many commits.
			if !sleep(ctx, coalesce) {
				t.Stop()
				return
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// coalesce is how long the dispatcher waits after a commit before it
// reads the log: notifications go out that much later, and a busy server
// reads its log in a few large batches rather than once per commit.
const coalesce = 10 * time.Millisecond

// dispatchOnce matches one batch of changes and records the step. It
// returns how many changes it read.
func (m *Manager) dispatchOnce(ctx context.Context) (int, error) {
	changes, err := m.cfg.Repo.Changes(ctx, m.cursor, m.timing.Batch)
	if err != nil {
		return 0, err
	}
	if len(changes) == 0 {
		if m.dirty > 0 { // idle: save how far the log has been read
			if err := m.cfg.State.Dispatch(ctx, store.Dispatch{Cursor: m.cursor}); err != nil {
				return 0, err
			}
			m.dirty = 0
		}
		return 0, nil
	}
	type applied struct {
		spec    *Spec
		issues  []fhir.Issue
		deleted bool
	}
	var (
		d     = store.Dispatch{Cursor: changes[len(changes)-1].Seq}
		subs  []applied
		woken = map[string]bool{}
		cands []*indexed
	)
	for i := range changes {
		c := &changes[i]
		if c.Type == "Subscription" {
			spec, issues := m.applied(c)
			live := m.index.byID[c.ID] != nil
			d.Subscriptions = append(d.Subscriptions, store.SubscriptionState{ID: c.ID, Version: c.VersionID, Live: live})
			subs = append(subs, applied{spec, issues, c.Deleted})
			continue
		}
		if !m.index.watches(c.Type) {
			continue
		}
		ch := newChange(ctx, m.cfg.Repo, m.ix, *c)
		if err := ch.index(); err != nil {
			if ch.prevErr != nil {
				return 0, err
			}
			m.log.Warn("subscription: a stored version cannot be indexed; it notifies no one", "resource", c.Type+"/"+c.ID, "version", c.VersionID, "err", err)
			continue
		}
		cands = m.index.candidates(c.Type, ch.entries, cands[:0])
		for _, in := range cands {
			ok, err := m.matches(ctx, in.spec, ch)
			if err != nil {
				return 0, err
			}
			if ok {
				d.Events = append(d.Events, store.Event{Subscription: in.spec.ID, Seq: c.Seq})
				woken[in.spec.ID] = true
			}
		}
	}
	if len(d.Subscriptions) == 0 && len(d.Events) == 0 {
		m.cursor = d.Cursor
		if m.dirty += len(changes); m.dirty >= flushEvery {
			if err := m.cfg.State.Dispatch(ctx, store.Dispatch{Cursor: m.cursor}); err != nil {
				return 0, err
			}
			m.dirty = 0
		}
		return len(changes), nil
	}
	if err := m.cfg.State.Dispatch(ctx, d); err != nil {
		return 0, fmt.Errorf("record dispatch step: %w", err)
	}
	m.cursor, m.dirty = d.Cursor, 0
	for _, a := range subs {
		m.syncWorker(a.spec, a.issues, a.deleted)
	}
	for id := range woken {
		m.poke(id)
	}
	return len(changes), nil
}

// matches decides whether a change is an event of a subscription: the
// topic's trigger (or, for R4 criteria, a create or update), its query,
// and, with authorization on, whether the subscription's owner may read
// the resource at all. An error is the store's: the step is retried.
func (m *Manager) matches(ctx context.Context, spec *Spec, ch *change) (bool, error) {
	if spec.Topic != nil {
		ok, err := spec.Topic.trigger(ch)
		if err != nil || !ok {
			return false, err
		}
	} else if ch.v.Deleted {
		return false, nil // R4 criteria: a resource that matches is created or updated
	}
	if !spec.Query.matches(ch.entries) {
		return false, nil
	}
	owner, err := m.ownerOf(ctx, spec.ID, spec.Version)
	if errors.Is(err, errNoOwner) {
		return false, nil // fail closed (ownerOf logged it)
	}
	if err != nil || owner == nil {
		return err == nil, err
	}
	return m.svc.MayRead(asOwner(ctx, owner), &ch.v.Version)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
