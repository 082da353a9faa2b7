// Package pagecache installs a thin wrapper around SQLite's own page cache
// (pcache1) that makes the truncation at the end of every write
// transaction free when there is nothing to truncate.
//
// pcache1 remembers the largest page number it has held since it was last
// truncated, and truncating scans every bucket of its hash table when that
// number is far above the limit. The B-tree swaps page numbers through a
// temporary one, the locking page (page 262,145 with 4 KiB pages), every
// time it rebalances pages out of order, which indexed writes do in most
// commits. From then on every commit's truncation scanned the whole hash
// table of the writer's 64 MiB cache (16,384 pages) to drop nothing: 2.4%
// of the CPU of an indexed create, on the commit leader, and growing with
// the cache. The wrapper keeps its own bound, which leaves the temporary
// number out, and skips those truncations; every other call goes to pcache1
// unchanged. The argument that this is safe is in pagecache.c.
//
// SQLite takes its page cache from a global setting that can only change
// before it initialises, so the wrapper is installed when the package is
// initialised, before any connection can open. Importing the package is
// enough; Err reports whether it worked.
package pagecache

/*
#include "pagecache.h"
*/
import "C"

import (
	"fmt"

	// The SQLite whose page cache this wraps, and whose sqlite3_config the
	// C code calls.
	_ "github.com/mattn/go-sqlite3"
)

var installErr = func() error {
	if rc := C.telederm_pagecache_install(); rc != 0 {
		return fmt.Errorf("sqlite: install the page cache wrapper: error %d (was SQLite initialised first?)", int(rc))
	}
	return nil
}()

// Err is nil when the wrapper is SQLite's page cache. Without it SQLite
// works as before, only slower.
func Err() error { return installErr }

// Counters are what the wrapper has seen since the program started, in
// every connection.
type Counters struct {
	Skipped   int64 // truncations skipped: nothing at or above the limit was cached
	Passed    int64 // truncations passed on to pcache1
	LockMoves int64 // pages moved to the locking page's number (B-tree page swaps)
}

// Count returns the Counters.
func Count() Counters {
	var s, p, l C.longlong
	C.telederm_pagecache_counters(&s, &p, &l)
	return Counters{Skipped: int64(s), Passed: int64(p), LockMoves: int64(l)}
}
