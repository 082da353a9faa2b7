package sqlite

import (
	"slices"
	"testing"
)

func TestSpanCache(t *testing.T) {
	var c spanCache
	day, hour := int64(86_400_000_000), int64(3_600_000_000)
	spans := []paramSpan{{"birthdate", day}, {"_lastUpdated", 1}}
	if got := c.unknown("Patient", spans); !slices.Equal(got, spans) {
		t.Fatalf("nothing learnt yet: unknown = %v, want all", got)
	}
	c.learn("Patient", spans)
	tests := []struct {
		typ   string
		spans []paramSpan
		want  []paramSpan
	}{
		{"Patient", []paramSpan{{"birthdate", day}, {"_lastUpdated", 1}}, nil},
		{"Patient", []paramSpan{{"birthdate", hour}}, nil},                                    // narrower than known
		{"Patient", []paramSpan{{"birthdate", 2 * day}}, []paramSpan{{"birthdate", 2 * day}}}, // wider
		{"Patient", []paramSpan{{"_lastUpdated", 1}, {"death-date", 1}}, []paramSpan{{"death-date", 1}}},
		{"Person", []paramSpan{{"birthdate", day}}, []paramSpan{{"birthdate", day}}}, // another type
	}
	for _, tt := range tests {
		if got := c.unknown(tt.typ, tt.spans); !slices.Equal(got, tt.want) {
			t.Errorf("unknown(%s, %v) = %v, want %v", tt.typ, tt.spans, got, tt.want)
		}
	}
	c.learn("Patient", []paramSpan{{"birthdate", hour}}) // never narrows
	if got := c.unknown("Patient", []paramSpan{{"birthdate", day}}); len(got) != 0 {
		t.Errorf("learning a narrower span forgot the wider one: %v", got)
	}
}
