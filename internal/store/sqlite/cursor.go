package sqlite

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/telederm/telederm/internal/store"
)

// A history cursor is the seq of the last version a page returned; the next
// page continues below it. New commits only take larger seqs, so they never
// shift a page. The prefix names the format and catches cursors from
// elsewhere.
const cursorPrefix = "s1:"

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", store.ErrBadCursor, c)
	}
	digits, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, fmt.Errorf("%w: %q", store.ErrBadCursor, c)
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("%w: %q", store.ErrBadCursor, c)
	}
	return seq, nil
}
