package rest

import (
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

func TestKeyedLocksExclude(t *testing.T) {
	var k keyedLocks
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			// Every caller takes "a" (with others, in varied order): no two
			// may be inside at once, and none may deadlock.
			keys := []string{"a", "b"}
			if i%2 == 0 {
				keys = []string{"c", "a", "a"}
			}
			unlock := k.lock(keys...)
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d callers held the same key at once", most.Load())
	}
	if len(k.held) != 0 {
		t.Errorf("%d locks left behind", len(k.held))
	}
}

func TestConditionKeyIgnoresOrder(t *testing.T) {
	a, _ := url.ParseQuery("identifier=s|1&birthdate=1970")
	b, _ := url.ParseQuery("birthdate=1970&identifier=s|1")
	if conditionKey("Patient", a) != conditionKey("Patient", b) {
		t.Error("the same criteria in another order gave another key")
	}
	if conditionKey("Patient", a) == conditionKey("Person", a) {
		t.Error("the type is not part of the key")
	}
}
