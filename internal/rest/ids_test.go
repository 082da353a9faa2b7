package rest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseETag(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`W/"3"`, 3, true}, {`"3"`, 3, true}, {`3`, 3, true}, {` W/"12" `, 12, true},
		{`W/"0"`, 0, false}, {`W/"-1"`, 0, false}, {`W/"abc"`, 0, false}, {``, 0, false}, {`*`, 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseETag(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseETag(%q) = %d, %v", tt.in, got, ok)
		}
	}
	if ETag(42) != `W/"42"` {
		t.Error(ETag(42))
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "A-b.9": true, "123e4567-e89b-12d3-a456-426614174000": true,
		"": false, "has space": false, "under_score": false, "é": false,
		"1234567890123456789012345678901234567890123456789012345678901234":  true,
		"12345678901234567890123456789012345678901234567890123456789012345": false,
	} {
		if validID(id) != want {
			t.Errorf("validID(%q) = %v", id, !want)
		}
	}
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		if !validID(id) || seen[id] {
			t.Fatalf("newID gave %q", id)
		}
		seen[id] = true
	}
}

// TestNewIDIsTimeOrdered checks the UUID version 7 layout: the version and
// variant bits, the creation time in the first 48 bits, and that ids made
// in later milliseconds sort after earlier ones (what keeps index inserts
// local).
func TestNewIDIsTimeOrdered(t *testing.T) {
	before := time.Now().UnixMilli()
	first := newID()
	after := time.Now().UnixMilli()
	if len(first) != 36 || first[14] != '7' || !strings.ContainsRune("89ab", rune(first[19])) {
		t.Fatalf("newID() = %q, want a version 7, RFC 9562 variant UUID", first)
	}
	ms, err := strconv.ParseInt(first[0:8]+first[9:13], 16, 64)
	if err != nil || ms < before || ms > after {
		t.Fatalf("newID() = %q carries %d ms, want between %d and %d (%v)", first, ms, before, after, err)
	}
	time.Sleep(2 * time.Millisecond)
	if second := newID(); second <= first {
		t.Errorf("newID() made later = %q, does not sort after %q", second, first)
	}
}
