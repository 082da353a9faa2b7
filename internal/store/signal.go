package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Signal is closed and replaced after every commit a backend makes, so a
// consumer of Changes can wait for news instead of polling: take the
// channel, read Changes, then wait on it.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns the channel the next Fire closes.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Fire wakes every waiter.
func (s *Signal) Fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// EncodeSeqCursor is an opaque history cursor holding the seq of the last
// version a page returned; prefix names the backend's format, so a cursor
// from elsewhere (another backend, a search) is refused.
func EncodeSeqCursor(prefix string, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(prefix + strconv.FormatInt(seq, 10)))
}

// DecodeSeqCursor reads a cursor of EncodeSeqCursor with the same prefix,
// or fails with ErrBadCursor.
func DecodeSeqCursor(prefix, c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	digits, ok := strings.CutPrefix(string(raw), prefix)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return seq, nil
}
