package rest

import "testing"

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
