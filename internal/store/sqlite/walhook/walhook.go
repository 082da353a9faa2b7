// Package walhook tells how many frames a connection's WAL holds after
// each of its commits (sqlite3_wal_hook), so that the store can fold the
// WAL into the database file on a connection of its own.
//
// SQLite's automatic checkpoint runs inside the commit that crosses its
// threshold, on the committing connection. For a store with one writer
// that commit, and every commit queued behind it, waits for the whole
// checkpoint: on ingest, a second or so every ten, with the cores idle.
// Registering this hook replaces that automatic checkpoint (the two share
// one slot in SQLite), and the count it keeps is what the store needs to
// decide when to checkpoint instead.
package walhook

/*
#include <stdlib.h>
#include "walhook.h"
*/
import "C"

import (
	"sync/atomic"
	"unsafe"

	// The SQLite whose sqlite3_wal_hook the C code calls.
	_ "github.com/mattn/go-sqlite3"
)

// Frames is the frame count of one watched connection's WAL. Its memory
// is C's, so the C hook can write it; Free releases it.
type Frames struct {
	p *C.int64_t
}

// New returns a count of 0, watching nothing yet.
func New() *Frames {
	p := (*C.int64_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int64_t(0)))))
	return &Frames{p: p}
}

// Watch makes the connection db (an sqlite3 pointer, as rowexec.Handle
// reads it) record its WAL's frame count in f after each commit. It must
// be called while no statement runs on db, and f must not be freed before
// db is closed or Unwatch is called.
func (f *Frames) Watch(db uintptr) {
	C.telederm_walhook_watch(C.uintptr_t(db), f.p)
}

// Unwatch removes the hook from db.
func Unwatch(db uintptr) {
	C.telederm_walhook_unwatch(C.uintptr_t(db))
}

// Load is the number of frames the WAL held after the last commit of a
// watched connection: 0 before any, and counted again from the start each
// time SQLite restarts the WAL.
func (f *Frames) Load() int64 {
	return atomic.LoadInt64((*int64)(unsafe.Pointer(f.p)))
}

// Free releases the count; f must not be used, nor watched by an open
// connection, afterwards.
func (f *Frames) Free() {
	if f.p != nil {
		C.free(unsafe.Pointer(f.p))
		f.p = nil
	}
}
