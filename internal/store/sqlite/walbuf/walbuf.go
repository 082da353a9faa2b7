// Package walbuf registers an SQLite VFS that writes a transaction's WAL
// frames together at commit, in blocks of up to 128 KiB (the most SQLite's
// unix VFS writes at once), instead of with two system calls per frame.
//
// SQLite appends each dirty page to the WAL as a 24-byte frame header and
// then the page, each its own pwrite. An indexed write dirties a page per
// index entry, so a commit of a few resources is a hundred pwrite calls,
// and on this kind of machine the system call, not the copy, is most of
// their cost. The VFS gathers the frames SQLite appends and writes them
// when the commit frame is complete, inside the xWrite call that
// completes it, so that call returns the write's result. SQLite makes a
// commit visible to other connections (the wal-index header) only after
// that call has returned SQLITE_OK, and it reads the WAL back only through
// methods that write what is pending first; so readers, checkpoints and
// crash recovery see exactly the file they would without it. The rules are
// in walbuf.c.
package walbuf

/*
#include <stdlib.h>
#include "walbuf.h"
*/
import "C"

import (
	"fmt"
	"sync"

	// The SQLite whose VFS this wraps, and whose sqlite3_vfs_register the
	// C code calls.
	_ "github.com/mattn/go-sqlite3"
)

// Name is the VFS name to open a database with (mattn's DSN "vfs=").
const Name = "telederm-walbuf"

var (
	once sync.Once
	err  error
)

// Register makes the VFS available under Name; it is safe to call more
// than once, from any goroutine.
func Register() error {
	once.Do(func() {
		// The name must outlive the VFS, which is never unregistered.
		if rc := C.telederm_walbuf_register(C.CString(Name)); rc != 0 {
			err = fmt.Errorf("sqlite: register the %s VFS: error %d", Name, int(rc))
		}
	})
	return err
}

// Counters are what the VFS has done since the program started, in every
// database opened with it.
type Counters struct {
	Buffered   int64 // WAL writes gathered into a buffer
	Direct     int64 // WAL writes passed straight through (not appends)
	FlushCalls int64 // write calls that wrote gathered writes
}

// Count returns the Counters.
func Count() Counters {
	var b, d, f C.longlong
	C.telederm_walbuf_counters(&b, &d, &f)
	return Counters{Buffered: int64(b), Direct: int64(d), FlushCalls: int64(f)}
}
