package sqlite

import (
	"runtime"
	"time"
)

// Sync chooses how hard a commit pushes data to disk (PRAGMA synchronous).
type Sync int

const (
	// SyncNormal does not fsync on each commit in WAL mode, only at
	// checkpoints. A committed transaction survives the process being
	// killed (kill -9), because the WAL is in the OS page cache; an OS
	// crash or power loss can lose the last transactions, never corrupt the
	// file.
	SyncNormal Sync = iota
	// SyncFull fsyncs the WAL on every commit: committed transactions also
	// survive an OS crash or power loss, at the cost of one fsync per write.
	SyncFull
)

func (s Sync) pragma() string {
	if s == SyncFull {
		return "FULL"
	}
	return "NORMAL"
}

// Options tune a Store. The zero value is a good default.
type Options struct {
	// Synchronous is the durability of a commit; the zero value is SyncNormal.
	Synchronous Sync
	// Readers caps the read connection pool; 0 means max(4, GOMAXPROCS).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process (a backup tool; a second server is refused, see lockDir) before failing;
	// 0 means 5s. Within one Store writers queue in Go and never wait here.
	BusyTimeout time.Duration
	// PlainWAL opens the database with SQLite's own VFS, which writes each
	// WAL frame as two system calls, instead of the walbuf VFS, which
	// writes a commit's frames with a few (package walbuf). For comparison
	// in tests and benchmarks: the file is the same either way, so a
	// database written with one opens with the other.
	PlainWAL bool
}

func (o Options) withDefaults() Options {
	if o.Readers <= 0 {
		o.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	return o
}
