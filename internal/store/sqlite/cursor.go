package sqlite

import (
	"github.com/telederm/telederm/internal/store"
)

// A history cursor is the seq of the last version a page returned; the next
// page continues below it. New commits only take larger seqs, so they never
// shift a page. The prefix names the format and catches cursors from
// elsewhere.
const cursorPrefix = "s1:"

func encodeCursor(seq int64) string { return store.EncodeSeqCursor(cursorPrefix, seq) }

func decodeCursor(c string) (int64, error) { return store.DecodeSeqCursor(cursorPrefix, c) }
