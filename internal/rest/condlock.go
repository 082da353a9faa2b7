package rest

import (
	"net/url"
	"slices"
	"sync"
)

// keyedLocks serialises conditional creates that use the same criteria, so
// that two identical If-None-Exist requests racing each other (a GP system
// retrying a referral whose first attempt is still running) create one
// resource, not two: the second runs its search after the first commits.
// The locks live in this process, which is the whole server on the
// embedded store.
type keyedLocks struct {
	mu   sync.Mutex
	held map[string]*keyedLock
}

type keyedLock struct {
	mu      sync.Mutex
	waiters int // holders and waiters; the entry goes when it drops to 0
}

// conditionKey names the criteria of a conditional create of typ.
func conditionKey(typ string, criteria url.Values) string {
	return typ + "?" + criteria.Encode() // Encode sorts by parameter name
}

// lock takes the locks of keys, in sorted order so that two callers
// holding several never deadlock, and returns the function that releases
// them.
func (k *keyedLocks) lock(keys ...string) (unlock func()) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	locks := make([]*keyedLock, len(keys))
	k.mu.Lock()
	if k.held == nil {
		k.held = map[string]*keyedLock{}
	}
	for i, key := range keys {
		l := k.held[key]
		if l == nil {
			l = &keyedLock{}
			k.held[key] = l
		}
		l.waiters++
		locks[i] = l
	}
	k.mu.Unlock()
	for _, l := range locks {
		l.mu.Lock()
	}
	return func() {
		for _, l := range locks {
			l.mu.Unlock()
		}
		k.mu.Lock()
		for i, key := range keys {
			if locks[i].waiters--; locks[i].waiters == 0 {
				delete(k.held, key)
			}
		}
		k.mu.Unlock()
	}
}
