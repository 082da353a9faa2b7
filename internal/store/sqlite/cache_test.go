package sqlite

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// TestCacheNeverServesAnOverwrittenVersion: while one writer updates a
// resource, readers by id never get a version older than the last one
// acknowledged before their read began.
func TestCacheNeverServesAnOverwrittenVersion(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	const versions = 300
	var acked atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := int64(1); v <= versions; v++ {
			c := change("Patient", "p", v)
			c.Method = store.MethodUpdate
			if err := s.Commit(t.Context(), []store.Change{c}); err != nil {
				t.Error(err)
				return
			}
			acked.Store(v)
		}
	})
	for range 4 {
		wg.Go(func() {
			for acked.Load() < versions {
				want := acked.Load()
				if want == 0 {
					continue
				}
				v, err := s.Current(t.Context(), "Patient", "p")
				if err != nil {
					t.Error(err)
					return
				}
				if v.VersionID < want {
					t.Errorf("read version %d after version %d was acknowledged", v.VersionID, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if v := versionOf(t, s, "Patient", "p"); v != versions {
		t.Errorf("current version %d, want %d", v, versions)
	}
}

// TestCacheHandsOutCopies: a caller that changes the body it got does not
// change what the next caller reads.
func TestCacheHandsOutCopies(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	c := change("Patient", "p", 1)
	c.Body = []byte(`{"resourceType":"Patient","id":"p"}`)
	if err := s.Commit(t.Context(), []store.Change{c}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first read fills the cache, the second reads it
		v, err := s.Current(t.Context(), "Patient", "p")
		if err != nil {
			t.Fatal(err)
		}
		if string(v.Body) != string(c.Body) {
			t.Fatalf("read %s, want %s", v.Body, c.Body)
		}
		copy(v.Body, strings.Repeat("x", len(v.Body)))
	}
}

// TestCacheStaysWithinItsBudget: reading more than the budget evicts the
// least recently used.
func TestCacheStaysWithinItsBudget(t *testing.T) {
	c := newCurrentCache()
	body := make([]byte, 64<<10)
	for i := range 4 * cacheShards * cacheShardBytes / len(body) {
		c.put(c.begin(), &store.Version{Type: "Binary", ID: fmt.Sprint(i), VersionID: 1, Body: body})
	}
	total := 0
	for i := range c.shards {
		if c.shards[i].bytes > cacheShardBytes {
			t.Errorf("shard %d holds %d bytes, over %d", i, c.shards[i].bytes, cacheShardBytes)
		}
		total += c.shards[i].lru.Len()
	}
	if total == 0 {
		t.Error("the cache kept nothing")
	}
	if _, ok := c.get("Binary", "0"); ok {
		t.Error("the first version put is still cached after four budgets' worth")
	}
}

// TestSecondOpenOfADirectoryRefused: the read cache knows this process's
// writes only, so a second Store on the same directory is refused.
func TestSecondOpenOfADirectoryRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	if s2, err := Open(t.Context(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		if s2 != nil {
			s2.Close()
		}
		t.Fatalf("second Open = %v, want in use", err)
	}
	s.Close()
	s3, err := Open(t.Context(), dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s3.Close()
}
