package sqlite

import (
	"container/list"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/telederm/telederm/internal/store"
)

// currentCache keeps the current version of recently read resources, so
// that a read by id, the commonest FHIR interaction, does not go through
// database/sql and cgo to SQLite (most of its cost).
//
// It never serves a version older than an acknowledged write: a commit
// bumps the epoch and drops its resources before it is acknowledged, and a
// read stores what it found only if no commit bumped the epoch since the
// read began (so it cannot store a version a commit has already
// superseded). That holds for the writes of this process only, which is
// why a Store locks its directory against a second server.
type currentCache struct {
	epoch  atomic.Uint64
	seed   maphash.Seed
	shards [cacheShards]cacheShard
}

const (
	cacheShards = 16
	// cacheShardBytes bounds each shard's bodies: 64 MiB in all.
	cacheShardBytes = 4 << 20
)

type cacheKey struct{ typ, id string }

type cacheShard struct {
	mu    sync.Mutex
	items map[cacheKey]*list.Element // of *store.Version
	lru   list.List                  // most recently used first
	bytes int
}

func newCurrentCache() *currentCache {
	c := &currentCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].items = map[cacheKey]*list.Element{}
	}
	return c
}

func (c *currentCache) shard(k cacheKey) *cacheShard {
	return &c.shards[maphash.String(c.seed, k.typ+"/"+k.id)%cacheShards]
}

// get returns a copy of the cached current version of typ/id.
func (c *currentCache) get(typ, id string) (*store.Version, bool) {
	k := cacheKey{typ, id}
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.items[k]
	if !ok {
		return nil, false
	}
	sh.lru.MoveToFront(e)
	return copyVersion(e.Value.(*store.Version)), true
}

// begin is called before a read that may be stored with put.
func (c *currentCache) begin() uint64 { return c.epoch.Load() }

// put stores a copy of v, read after begin returned epoch, unless a
// commit has happened since.
func (c *currentCache) put(epoch uint64, v *store.Version) {
	k := cacheKey{v.Type, v.ID}
	sh := c.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if e, ok := sh.items[k]; ok {
		sh.remove(e)
	}
	v = copyVersion(v)
	sh.items[k] = sh.lru.PushFront(v)
	sh.bytes += cost(v)
	for sh.bytes > cacheShardBytes && sh.lru.Len() > 1 {
		sh.remove(sh.lru.Back())
	}
}

// invalidate drops the resources a commit changed. It runs after the
// commit and before it is acknowledged; the epoch moves first, so a read
// that began before cannot store what it found.
func (c *currentCache) invalidate(changes []store.Change) {
	c.epoch.Add(1)
	for _, ch := range changes {
		k := cacheKey{ch.Type, ch.ID}
		sh := c.shard(k)
		sh.mu.Lock()
		if e, ok := sh.items[k]; ok {
			sh.remove(e)
		}
		sh.mu.Unlock()
	}
}

func (sh *cacheShard) remove(e *list.Element) {
	v := sh.lru.Remove(e).(*store.Version)
	delete(sh.items, cacheKey{v.Type, v.ID})
	sh.bytes -= cost(v)
}

// cost is a version's share of the cache budget.
func cost(v *store.Version) int { return len(v.Body) + len(v.Type) + len(v.ID) + len(v.BlobRef) + 64 }

// copyVersion copies v and its body: callers own what they get.
func copyVersion(v *store.Version) *store.Version {
	out := *v
	if v.Body != nil {
		out.Body = append([]byte(nil), v.Body...)
	}
	return &out
}
