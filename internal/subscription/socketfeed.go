package subscription

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/telederm/telederm/internal/subscription/notify"
)

// Websocket delivery is per process: every process, holder of the
// delivery lease or not, sends a subscription's events to the sockets
// bound at it, from a feed of its own. The feed starts at the delivered
// number in the store when its first socket binds (so events that found
// no socket anywhere go to the first one that binds), reads the events
// the dispatcher numbered, in order, and raises the delivered number in
// the store (MarkSocketDelivered, which no lease fences: rest-hook marks
// stay the holder's). Sockets bound at two processes each get every
// event. Its subscription's status is the worker's (stepWebSocket).

// bindNudge is how long after a bind the feed looks for the new socket
// (the hub binds after its hooks return).
const bindNudge = 20 * time.Millisecond

// bindGrace is how long a feed without sockets waits for a bind its hook
// announced before it stops.
const bindGrace = 5 * time.Second

// socketFeed delivers one subscription's events to this process's
// sockets.
type socketFeed struct {
	m    *Manager
	id   string
	wake chan struct{} // capacity 1: a pending nudge

	// Guarded by m.feedsMu.
	cursor int64     // the last event number sent here
	bindBy time.Time // a bind announced may arrive until then

	lastSent time.Time // the feed goroutine's own
}

// processName names this process's websocket delivery records.
func processName() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (m *Manager) feedOf(id string) *socketFeed {
	m.feedsMu.Lock()
	defer m.feedsMu.Unlock()
	return m.feeds[id]
}

// bindSocket starts (or restarts) this process's feed of a subscription
// a socket is binding to; delivered is the store's delivered number read
// for the bind.
func (m *Manager) bindSocket(id string, delivered int64) {
	m.feedsMu.Lock()
	defer m.feedsMu.Unlock()
	if m.ctx.Err() != nil {
		return
	}
	f := m.feeds[id]
	switch {
	case f == nil:
		f = &socketFeed{m: m, id: id, wake: make(chan struct{}, 1), cursor: delivered, lastSent: m.now()}
		m.feeds[id] = f
		m.wg.Add(1)
		go f.run(m.ctx)
	case m.hub.Bound(id) == 0:
		f.cursor = delivered // its sockets went: start again where delivery got
	}
	f.bindBy = time.Now().Add(bindGrace)
	time.AfterFunc(bindNudge, f.poke)
}

func (f *socketFeed) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// leave stops the feed when no socket is bound here and none is on its
// way; false: keep going.
func (f *socketFeed) leave() bool {
	m := f.m
	m.feedsMu.Lock()
	defer m.feedsMu.Unlock()
	if m.hub.Bound(f.id) > 0 || time.Now().Before(f.bindBy) {
		return false
	}
	delete(m.feeds, f.id)
	return true
}

func (f *socketFeed) position() int64 {
	f.m.feedsMu.Lock()
	defer f.m.feedsMu.Unlock()
	return f.cursor
}

// advance moves the cursor from to to, unless a bind restarted it
// meanwhile.
func (f *socketFeed) advance(from, to int64) {
	f.m.feedsMu.Lock()
	defer f.m.feedsMu.Unlock()
	if f.cursor == from {
		f.cursor = to
	}
}

func (f *socketFeed) run(ctx context.Context) {
	defer f.m.wg.Done()
	for {
		d, done := f.step(ctx)
		if done || ctx.Err() != nil {
			return
		}
		if d == 0 {
			continue
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// step sends the next events (or a heartbeat when one is due) and says
// how long to wait before the next step; done: the feed stopped. With
// nothing to send it polls: another process may number the events.
func (f *socketFeed) step(ctx context.Context) (wait time.Duration, done bool) {
	m := f.m
	if m.hub.Bound(f.id) == 0 {
		if f.leave() {
			return 0, true
		}
		return bindNudge, false
	}
	spec, err := m.socketSpec(ctx, f.id)
	if err != nil {
		return m.timing.Poll, false // off, ended or deleted: nothing more to send
	}
	prog, err := m.progress(ctx, f.id)
	if err != nil {
		return f.internalError(ctx, "read delivery progress", err), false
	}
	if cursor := f.position(); cursor < prog.Events {
		evs, err := m.cfg.State.Events(ctx, f.id, cursor+1, prog.Events, m.maxCount(spec))
		if err != nil || len(evs) == 0 {
			return f.internalError(ctx, "read queued events", errors.Join(err, fmt.Errorf("%d events", len(evs)))), false
		}
		msg := []byte("ping " + spec.ID) // R4: a ping says "something happened"
		if spec.Topic != nil {
			if msg, err = m.deliveryBundle(ctx, spec, evs, prog.Events); err != nil {
				return f.internalError(ctx, "render a notification", err), false
			}
		}
		if m.hub.Send(ctx, f.id, msg) == 0 {
			return m.timing.Poll, false // the sockets went away; keep the events
		}
		last := evs[len(evs)-1].Number
		f.advance(cursor, last)
		if err := m.cfg.State.MarkSocketDelivered(ctx, f.id, m.process, last); err != nil && ctx.Err() == nil {
			// Sent all the same; a socket binding later may get them again.
			m.log.Error("websocket delivery not recorded", "subscription", f.id, "err", err)
		}
		f.lastSent = m.now()
		return 0, false
	}
	wait = m.timing.Poll
	if spec.Heartbeat > 0 && spec.Topic != nil {
		if now := m.now(); !now.Before(f.lastSent.Add(spec.Heartbeat)) {
			b, err := m.statusBundle(spec, notify.Heartbeat, prog.Events)
			if err != nil {
				return f.internalError(ctx, "render a heartbeat", err), false
			}
			if m.hub.Send(ctx, f.id, b) > 0 {
				f.lastSent = now
			}
		}
		wait = min(wait, max(f.lastSent.Add(spec.Heartbeat).Sub(m.now()), time.Millisecond))
	}
	return wait, false
}

// internalError is a failure of the server itself (its store): logged,
// retried soon.
func (f *socketFeed) internalError(ctx context.Context, what string, err error) time.Duration {
	if ctx.Err() == nil {
		f.m.log.Error("websocket delivery stalled", "subscription", f.id, "step", what, "err", err)
	}
	return f.m.timing.RetryMin
}
