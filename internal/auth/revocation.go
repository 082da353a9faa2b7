package auth

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
)

// revocationList holds the ids (jti) of revoked access tokens until the
// tokens expire: in the state (so that a restart, or another process,
// does not let a revoked token back in) and in memory, so that
// Authenticate never waits for the state. On a shared state the memory
// is refreshed from it at most once per pollEvery, in the background of
// the request that finds it stale: a token revoked by another process is
// refused here about a second later.
type revocationList struct {
	st     State
	shared bool
	now    func() time.Time
	log    *slog.Logger

	mu     sync.RWMutex
	jtis   map[string]time.Time // jti -> when the record expires (the token's expiry and the leeway)
	polled atomic.Int64         // monotonic ns of the last refresh started (shared only)
	busy   atomic.Bool
	start  time.Time // the origin of polled
}

func openRevocationList(st State, shared bool, now func() time.Time, log *slog.Logger) (*revocationList, error) {
	l := &revocationList{st: st, shared: shared, now: now, log: log, jtis: map[string]time.Time{}, start: time.Now()}
	if err := l.refresh(); err != nil {
		return nil, err
	}
	return l, nil
}

// refresh adds the state's revocations to memory (revocations are never
// withdrawn, so memory keeps what it had) and drops the expired ones.
func (l *revocationList) refresh() error {
	ctx, cancel := stateCtx()
	defer cancel()
	recs, err := l.st.List(ctx, kindRevoked)
	if err != nil {
		return err
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		l.jtis[r.Key] = r.Expires
	}
	for jti, exp := range l.jtis {
		if now.After(exp) {
			delete(l.jtis, jti)
		}
	}
	return nil
}

// maybeRefresh starts a refresh when the memory is older than pollEvery
// and none is under way.
func (l *revocationList) maybeRefresh() {
	if !l.shared || time.Since(l.start)-time.Duration(l.polled.Load()) < pollEvery || !l.busy.CompareAndSwap(false, true) {
		return
	}
	l.polled.Store(int64(time.Since(l.start)))
	go func() {
		defer l.busy.Store(false)
		if err := l.refresh(); err != nil {
			l.log.Error("refresh revoked tokens", "err", err)
		}
	}()
}

// has reports whether jti is revoked.
func (l *revocationList) has(jti string) bool {
	l.maybeRefresh()
	l.mu.RLock()
	_, ok := l.jtis[jti]
	l.mu.RUnlock()
	return ok
}

// add revokes tokens by jti (with their expiry).
func (l *revocationList) add(revoked map[string]time.Time) error {
	var errs []error
	for jti, exp := range revoked {
		until := exp.Add(leeway)
		err := insertJSON(l.st, kindRevoked, jti, struct{}{}, until)
		if err != nil && !errors.Is(err, authstate.ErrExists) {
			errs = append(errs, err) // not stored: refused by this process alone
		}
		l.mu.Lock()
		l.jtis[jti] = until
		l.mu.Unlock()
	}
	return errors.Join(errs...)
}
