// Package rowexec runs a prepared single-row INSERT once per row of a
// packed buffer in one call into SQLite, instead of one database/sql Exec
// per row.
//
// The index rows of an indexed write are many small INSERTs (a Patient has
// about fifteen). Through database/sql and mattn/go-sqlite3 each one
// allocates its argument list, takes the statement's locks, and crosses
// into C once per bound value and twice more to reset and step: about as
// much work again as SQLite's own B-tree insert, and all of it on the
// commit leader, which runs one commit group at a time. Here Go packs the
// rows into a byte buffer (Rows) and C binds and steps them.
//
// The statements run on the connection a database/sql transaction holds,
// in that transaction: the caller finds the connection with Handle,
// inside the transaction, and must not use a Stmt outside one on the same
// connection.
package rowexec

/*
#include <stdlib.h>
#include "rowexec.h"
*/
import "C"

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unsafe"

	// The SQLite whose API the C code calls.
	_ "github.com/mattn/go-sqlite3"
)

var installErr = func() error {
	if rc := C.telederm_rowexec_install(); rc != 0 {
		return fmt.Errorf("sqlite: register telederm_db_handle: error %d", int(rc))
	}
	return nil
}()

// Conn identifies an SQLite connection (its sqlite3 pointer).
type Conn uintptr

// HandleQuery returns the connection it runs on, for Handle: run it on a
// *sql.Tx (or a *sql.Conn) of a connection opened after this package was
// initialised. Prepared once, it costs little to run in every
// transaction.
const HandleQuery = "SELECT telederm_db_handle()"

// Handle reads the connection from row, the result of HandleQuery.
func Handle(row *sql.Row) (Conn, error) {
	if installErr != nil {
		return 0, installErr
	}
	var h int64
	if err := row.Scan(&h); err != nil {
		return 0, fmt.Errorf("sqlite: find the connection: %w", err)
	}
	if h == 0 {
		return 0, errors.New("sqlite: find the connection: no handle")
	}
	return Conn(h), nil
}

// Stmt is a statement prepared by Prepare. Its query's first two
// parameters are bound by Run (the row's number plus base, then rid), the
// rest from the rows in the order and types of its signature.
type Stmt struct {
	p   C.uintptr_t
	sig *C.char // 'i' integer, 'd' real, 't' text, one per remaining parameter
	n   int     // len(sig)
}

// Prepare prepares query on c. sig gives the types of the parameters
// after the first two: 'i' integer, 'd' real, 't' text.
func Prepare(c Conn, query, sig string) (*Stmt, error) {
	for _, t := range sig {
		if t != 'i' && t != 'd' && t != 't' {
			return nil, fmt.Errorf("sqlite: prepare %q: signature %q: want only i, d and t", query, sig)
		}
	}
	q := C.CString(query)
	defer C.free(unsafe.Pointer(q))
	var p C.uintptr_t
	var msg *C.char
	if rc := C.telederm_rowexec_prepare(C.uintptr_t(c), q, &p, &msg); rc != 0 {
		return nil, fmt.Errorf("sqlite: prepare %q: %s (%d)", query, C.GoString(msg), int(rc))
	}
	return &Stmt{p: p, sig: C.CString(sig), n: len(sig)}, nil
}

// Run inserts rows (built to s's signature), numbering them from base.
func (s *Stmt) Run(rows *Rows, base, rid int64) error {
	if rows.n == 0 {
		return nil
	}
	if rows.cols != rows.n*s.n {
		return fmt.Errorf("sqlite: %d values for %d rows of %d", rows.cols, rows.n, s.n)
	}
	var done C.longlong
	var msg *C.char
	rc := C.telederm_rowexec_run(s.p, s.sig, (*C.uchar)(unsafe.Pointer(&rows.buf[0])), C.int(len(rows.buf)),
		C.longlong(base), C.longlong(rid), &done, &msg)
	if rc != 0 {
		return fmt.Errorf("sqlite: row %d of %d: %s (%d)", int(done)+1, rows.n, C.GoString(msg), int(rc))
	}
	return nil
}

// Close finalizes the statement; it must come before its connection closes.
func (s *Stmt) Close() {
	if s.p != 0 {
		C.telederm_rowexec_finalize(s.p)
		C.free(unsafe.Pointer(s.sig))
		s.p, s.sig = 0, nil
	}
}

// Rows are rows packed for Run: each value as 8 bytes (integer and real,
// little-endian) or a 4-byte length then the bytes (text).
type Rows struct {
	buf  []byte
	n    int // rows ended by End
	cols int // values added
}

// Int adds an integer value.
func (r *Rows) Int(v int64) {
	r.buf = binary.LittleEndian.AppendUint64(r.buf, uint64(v))
	r.cols++
}

// Bool adds a boolean as SQLite keeps one: 1 or 0.
func (r *Rows) Bool(v bool) {
	var i int64
	if v {
		i = 1
	}
	r.Int(i)
}

// Real adds a real value.
func (r *Rows) Real(v float64) {
	r.buf = binary.LittleEndian.AppendUint64(r.buf, math.Float64bits(v))
	r.cols++
}

// Text adds a text value.
func (r *Rows) Text(v string) {
	r.buf = binary.LittleEndian.AppendUint32(r.buf, uint32(len(v)))
	r.buf = append(r.buf, v...)
	r.cols++
}

// End ends a row.
func (r *Rows) End() { r.n++ }

// Len is the number of rows.
func (r *Rows) Len() int { return r.n }
