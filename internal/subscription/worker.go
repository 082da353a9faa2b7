package subscription

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/subscription/egress"
	"github.com/telederm/telederm/internal/subscription/notify"
)

// forever is a step's "wait until woken".
const forever time.Duration = -1

// worker delivers one subscription's notifications, one at a time, in
// event-number order: it reads the events after the last one delivered,
// sends them (at most max-count per notification), and records the
// number delivered only once the receiver acknowledged them. A crash
// between sending and recording sends them again: at least once, and the
// event numbers let a receiver drop what it already has.
type worker struct {
	m      *Manager
	id     string
	wake   chan struct{} // capacity 1: a pending nudge
	stopCh chan struct{}
	stop   func()

	mu      sync.Mutex
	spec    *Spec
	issues  []fhir.Issue // why the spec cannot run, if it cannot
	lastErr string       // the failure being retried, for $status

	// Retry state, the worker goroutine's own.
	failures     int
	failingSince time.Time
	nextTry      time.Time
	lastSent     time.Time
}

// syncWorker starts, updates or stops the worker of a subscription as
// the dispatcher applies its versions.
func (m *Manager) syncWorker(spec *Spec, issues []fhir.Issue, deleted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[spec.ID]
	if deleted || !spec.live() {
		if w != nil {
			// A newer version the worker wrote itself may still be
			// ahead of the dispatcher; only stop for the newest.
			if w.version() > spec.Version {
				return
			}
			w.stop()
			delete(m.workers, spec.ID)
		}
		return
	}
	if w == nil {
		if m.ctx.Err() != nil {
			return
		}
		stopCh := make(chan struct{})
		w = &worker{m: m, id: spec.ID, wake: make(chan struct{}, 1), stopCh: stopCh, lastSent: m.now(), spec: spec, issues: issues}
		w.stop = sync.OnceFunc(func() { close(stopCh) })
		m.workers[spec.ID] = w
		m.wg.Add(1)
		go w.run(m.ctx)
		return
	}
	w.update(spec, issues)
}

// workerOf is the worker of a live subscription, or nil.
func (m *Manager) workerOf(id string) *worker {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.workers[id]
}

// poke nudges a subscription's worker and this process's socket feed,
// if it has them: it has new events.
func (m *Manager) poke(id string) {
	if w := m.workerOf(id); w != nil {
		w.poke()
	}
	if f := m.feedOf(id); f != nil {
		f.poke()
	}
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// update takes a newer version of the subscription.
func (w *worker) update(spec *Spec, issues []fhir.Issue) {
	w.mu.Lock()
	if w.spec == nil || spec.Version >= w.spec.Version {
		w.spec, w.issues = spec, issues
	}
	w.mu.Unlock()
	w.poke()
}

func (w *worker) current() (*Spec, []fhir.Issue) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.spec, w.issues
}

func (w *worker) version() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.spec == nil {
		return 0
	}
	return w.spec.Version
}

// failing is the delivery failure being retried, "" when none.
func (w *worker) failing() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
}

func (w *worker) run(ctx context.Context) {
	defer w.m.wg.Done()
	for {
		d := w.step(ctx)
		if ctx.Err() != nil {
			return
		}
		if d == 0 {
			select {
			case <-w.stopCh:
				return
			default:
				continue
			}
		}
		var timer <-chan time.Time
		var t *time.Timer
		if d > 0 {
			t = time.NewTimer(d)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-w.stopCh:
		case <-w.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		select {
		case <-w.stopCh:
			return
		default:
		}
	}
}

// step does the next thing the subscription needs and says how long to
// wait before the following one (0: at once; forever: until nudged).
func (w *worker) step(ctx context.Context) time.Duration {
	spec, issues := w.current()
	now := w.m.now()
	if !spec.live() {
		return forever // off: the dispatcher stops this worker
	}
	if len(issues) > 0 {
		// It cannot run (say an endpoint the allow list no longer
		// admits): the status says why.
		w.setStatus(ctx, []string{statusRequested, statusActive, statusError}, statusError, issueText(issues))
		return forever
	}
	if !spec.End.IsZero() && !now.Before(spec.End) {
		w.setStatus(ctx, []string{statusRequested, statusActive, statusError}, statusOff, "")
		return forever
	}
	var d time.Duration
	if now.Before(w.nextTry) {
		d = w.nextTry.Sub(now)
	} else if spec.Channel == WebSocket {
		d = w.stepWebSocket(ctx, spec)
	} else {
		d = w.stepRestHook(ctx, spec, now)
	}
	if !spec.End.IsZero() && (d == forever || d > spec.End.Sub(now)) {
		d = max(spec.End.Sub(now), time.Millisecond)
	}
	return d
}

// stepRestHook: the handshake first, then queued events, then heartbeats.
func (w *worker) stepRestHook(ctx context.Context, spec *Spec, now time.Time) time.Duration {
	m := w.m
	prog, err := m.cfg.State.Progress(ctx, spec.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return w.internalError(ctx, "read delivery progress", err)
	}
	if spec.Status == statusRequested {
		b, err := m.statusBundle(spec, notify.Handshake, prog.Events)
		if err != nil {
			return w.internalError(ctx, "render the handshake", err)
		}
		if err := m.post(ctx, spec, b); err != nil {
			return w.failed(ctx, spec, now, fmt.Errorf("handshake: %w", err))
		}
		w.succeeded(now)
		if !w.setStatus(ctx, []string{statusRequested}, statusActive, "") {
			return w.m.timing.RetryMin
		}
		return 0
	}
	if prog.Delivered < prog.Events {
		evs, err := m.cfg.State.Events(ctx, spec.ID, prog.Delivered+1, prog.Events, m.maxCount(spec))
		if err != nil {
			return w.internalError(ctx, "read queued events", err)
		}
		if len(evs) == 0 {
			return w.internalError(ctx, "read queued events", fmt.Errorf("events %d to %d are missing", prog.Delivered+1, prog.Events))
		}
		b, err := m.deliveryBundle(ctx, spec, evs, prog.Events)
		if err != nil {
			return w.internalError(ctx, "render a notification", err)
		}
		if err := m.post(ctx, spec, b); err != nil {
			return w.failed(ctx, spec, now, err)
		}
		if err := m.cfg.State.MarkDelivered(ctx, spec.ID, evs[len(evs)-1].Number); err != nil {
			return w.internalError(ctx, "record a delivery", err)
		}
		w.recovered(ctx, spec, now)
		return 0
	}
	// Nothing queued: a heartbeat when one is due; in error, a heartbeat
	// also probes whether the endpoint is back.
	due := spec.Heartbeat > 0 && !now.Before(w.lastSent.Add(spec.Heartbeat))
	if due || spec.Status == statusError {
		b, err := m.statusBundle(spec, notify.Heartbeat, prog.Events)
		if err != nil {
			return w.internalError(ctx, "render a heartbeat", err)
		}
		if err := m.post(ctx, spec, b); err != nil {
			return w.failed(ctx, spec, now, fmt.Errorf("heartbeat: %w", err))
		}
		w.recovered(ctx, spec, now)
	}
	if spec.Heartbeat > 0 {
		return max(w.lastSent.Add(spec.Heartbeat).Sub(m.now()), time.Millisecond)
	}
	return forever
}

// stepWebSocket: the subscription is active at once. Its handshake and
// events go to the sockets of each process from that process's feed
// (socketfeed.go), holder of the delivery lease or not.
func (w *worker) stepWebSocket(ctx context.Context, spec *Spec) time.Duration {
	if spec.Status != statusActive {
		if !w.setStatus(ctx, []string{statusRequested, statusError}, statusActive, "") {
			return w.m.timing.RetryMin
		}
		return 0
	}
	return forever
}

// deliveryBundle is the event notification of queued events, as the
// subscription's owner may see them.
func (m *Manager) deliveryBundle(ctx context.Context, spec *Spec, evs []store.QueuedEvent, total int64) ([]byte, error) {
	readCtx, known, err := m.ownerContext(ctx, spec)
	if err != nil {
		return nil, err
	}
	content := spec.Content
	if !known {
		content = notify.Empty
	}
	return m.eventBundle(readCtx, spec, evs, total, notify.EventNotification, content)
}

func (m *Manager) maxCount(spec *Spec) int {
	if spec.MaxCount > 0 {
		return spec.MaxCount
	}
	return m.timing.MaxCount
}

// failed schedules the retry of a failed delivery with exponential
// back-off and jitter. Once failures have lasted ErrorAfter (at once for
// an address the policy refuses) the status becomes error, with the
// failure as its error text, and retries slow to every RetryMax.
func (w *worker) failed(ctx context.Context, spec *Spec, now time.Time, err error) time.Duration {
	t := w.m.timing
	w.failures++
	if w.failingSince.IsZero() {
		w.failingSince = now
	}
	since := w.failingSince.UTC().Format(time.RFC3339)
	w.mu.Lock()
	w.lastErr = fmt.Sprintf("%v (failing since %s, %d attempts)", err, since, w.failures)
	w.mu.Unlock()
	delay := backoff(t.RetryMin, t.RetryMax, w.failures)
	if spec.Status == statusError || now.Sub(w.failingSince) >= t.ErrorAfter || errors.Is(err, egress.ErrForbiddenAddress) {
		// The resource's error text is written once, on the way into
		// error; $status shows the latest failure.
		w.setStatus(ctx, []string{statusRequested, statusActive}, statusError, fmt.Sprintf("%v (failing since %s)", err, since))
		delay = t.RetryMax
	}
	w.m.log.Warn("subscription delivery failed", "subscription", spec.ID, "attempts", w.failures, "retry_in", delay.String(), "err", err)
	w.nextTry = now.Add(delay)
	return delay
}

// succeeded clears the retry state after an acknowledged delivery.
func (w *worker) succeeded(now time.Time) {
	w.failures, w.failingSince, w.nextTry, w.lastSent = 0, time.Time{}, time.Time{}, now
	w.mu.Lock()
	w.lastErr = ""
	w.mu.Unlock()
}

// recovered is succeeded, and a subscription in error is active again.
func (w *worker) recovered(ctx context.Context, spec *Spec, now time.Time) {
	w.succeeded(now)
	if spec.Status == statusError {
		w.setStatus(ctx, []string{statusError}, statusActive, "")
	}
}

// internalError is a failure of the server itself (its store): logged,
// retried soon, never the endpoint's fault.
func (w *worker) internalError(ctx context.Context, what string, err error) time.Duration {
	if ctx.Err() == nil {
		w.m.log.Error("subscription delivery stalled", "subscription", w.id, "step", what, "err", err)
	}
	return w.m.timing.RetryMin
}

// setStatus writes the subscription's status when it is one of from, and
// takes the version written (or the newer one found). false: the store
// failed, and the caller should wait before trying again.
func (w *worker) setStatus(ctx context.Context, from []string, to, errText string) bool {
	spec, issues, err := w.m.writeStatus(ctx, w.id, from, to, errText)
	if errors.Is(err, errGone) {
		return true // the dispatcher stops this worker when it sees the deletion
	}
	if err != nil {
		if ctx.Err() == nil {
			w.m.log.Error("subscription status not written", "subscription", w.id, "status", to, "err", err)
		}
		return false
	}
	w.mu.Lock()
	if spec.Version >= w.spec.Version {
		w.spec, w.issues = spec, issues
	}
	w.mu.Unlock()
	return true
}

// backoff is RetryMin·2^(n-1), capped at max, with "equal jitter": half
// fixed, half random, so receivers coming back are not hit in lockstep.
func backoff(lo, hi time.Duration, n int) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

func issueText(issues []fhir.Issue) string {
	parts := make([]string, len(issues))
	for i, is := range issues {
		parts[i] = is.Diagnostics
	}
	return strings.Join(parts, "; ")
}
