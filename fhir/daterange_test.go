package fhir

import (
	"testing"
	"time"
)

func TestParseDateRange(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in     string
		lo, hi time.Time
	}{
		{"2024", utc(2024, 1, 1, 0, 0, 0, 0), utc(2025, 1, 1, 0, 0, 0, 0)},
		{"2024-02", utc(2024, 2, 1, 0, 0, 0, 0), utc(2024, 3, 1, 0, 0, 0, 0)},
		{"2024-12-31", utc(2024, 12, 31, 0, 0, 0, 0), utc(2025, 1, 1, 0, 0, 0, 0)},
		{"2024-03-05T10:00Z", utc(2024, 3, 5, 10, 0, 0, 0), utc(2024, 3, 5, 10, 1, 0, 0)},
		{"2024-03-05T10:00:07Z", utc(2024, 3, 5, 10, 0, 7, 0), utc(2024, 3, 5, 10, 0, 8, 0)},
		{"2024-03-05T10:00:07.25Z", utc(2024, 3, 5, 10, 0, 7, 250000000), utc(2024, 3, 5, 10, 0, 7, 260000000)},
		{"2024-03-05T10:00:07+01:00", utc(2024, 3, 5, 9, 0, 7, 0), utc(2024, 3, 5, 9, 0, 8, 0)},
		{"2024-03-05T10:00:07", utc(2024, 3, 5, 10, 0, 7, 0), utc(2024, 3, 5, 10, 0, 8, 0)},
	}
	for _, tt := range tests {
		lo, hi, err := ParseDateRange(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if !lo.Equal(tt.lo) || !hi.Equal(tt.hi) {
			t.Errorf("%s: got [%s, %s) want [%s, %s)", tt.in, lo, hi, tt.lo, tt.hi)
		}
	}
	for _, bad := range []string{"", "24", "2024-13", "2024-02-30", "2024-01-01T25:00:00Z", "yesterday", "2024-01-01T10:00:00+25:00"} {
		if _, _, err := ParseDateRange(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
