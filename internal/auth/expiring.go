package auth

import (
	"sync"
	"time"
)

// expiring is an in-memory map whose entries vanish at their expiry: the
// short-lived, single-process state of a launch (launch ids, sign-in
// transactions, client assertion ids).
type expiring[V any] struct {
	mu sync.Mutex
	m  map[string]expiringEntry[V]
}

type expiringEntry[V any] struct {
	v   V
	exp time.Time
}

func newExpiring[V any]() *expiring[V] {
	return &expiring[V]{m: map[string]expiringEntry[V]{}}
}

// add stores v under key until exp; it reports false, storing nothing,
// when an unexpired entry already has that key (a replay).
func (e *expiring[V]) add(key string, v V, exp, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pruneLocked(now)
	if _, ok := e.m[key]; ok {
		return false
	}
	e.m[key] = expiringEntry[V]{v: v, exp: exp}
	return true
}

// take removes and returns the entry under key. expired is true when the
// entry was there but past its expiry (so callers can say which).
func (e *expiring[V]) take(key string, now time.Time) (v V, ok, expired bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, found := e.m[key]
	if !found {
		return v, false, false
	}
	delete(e.m, key)
	if !now.Before(ent.exp) {
		return v, false, true
	}
	return ent.v, true, false
}

// get returns the unexpired entry under key, leaving it in place.
func (e *expiring[V]) get(key string, now time.Time) (V, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, found := e.m[key]
	if !found || !now.Before(ent.exp) {
		var zero V
		return zero, false
	}
	return ent.v, true
}

// replace swaps the value under an unexpired key, keeping its expiry:
// entries are replaced, never changed in place, so a reader's copy stays
// as it was.
func (e *expiring[V]) replace(key string, v V, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, found := e.m[key]
	if !found || !now.Before(ent.exp) {
		return false
	}
	e.m[key] = expiringEntry[V]{v: v, exp: ent.exp}
	return true
}

// pruneLocked drops expired entries once the map has grown, keeping
// inserts cheap while it is small. Expired entries are kept a minute so
// that take can still tell "expired" from "unknown".
func (e *expiring[V]) pruneLocked(now time.Time) {
	if len(e.m) < 1024 {
		return
	}
	for k, ent := range e.m {
		if now.Sub(ent.exp) > time.Minute {
			delete(e.m, k)
		}
	}
}
