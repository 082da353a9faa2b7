package search

import (
	"strings"
	"testing"
	"unicode"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë  O'Brien":    "zoe o brien",
		"ÓSÚILLEABHÁIN":   "osuilleabhain",
		"Müller-Łukasz":   "muller lukasz",
		"Straße":          "strasse",
		"  trailing  ":    "trailing",
		"e\u0301clair":    "eclair", // decomposed accent
		"山田":              "山田",
		"":                "",
		"Jean-Luc Picard": "jean luc picard",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecimalRange(t *testing.T) {
	tests := []struct {
		in        string
		v, lo, hi float64
	}{
		{"5.4", 5.4, 5.35, 5.45},
		{"100", 100, 99.5, 100.5},
		{"0.001", 0.001, 0.0005, 0.0015},
		{"1e2", 100, 50, 150},
		{"-2.50", -2.5, -2.505, -2.495},
	}
	const eps = 1e-12
	for _, tt := range tests {
		v, lo, hi, err := DecimalRange(tt.in)
		if err != nil || abs(v-tt.v) > eps || abs(lo-tt.lo) > eps || abs(hi-tt.hi) > eps {
			t.Errorf("DecimalRange(%q) = %v [%v, %v) %v", tt.in, v, lo, hi, err)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "NaN", "Inf", "1e999"} {
		if _, _, _, err := DecimalRange(bad); err == nil {
			t.Errorf("DecimalRange(%q) accepted", bad)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// TestNormalizeASCIIPaths: the ASCII shortcuts give what the general loop
// (normalizeReference, Normalize as it was before them) gives, for every
// ASCII character in every position.
func TestNormalizeASCIIPaths(t *testing.T) {
	for c := 0; c < 128; c++ {
		for _, s := range []string{string(rune(c)), "a" + string(rune(c)) + "b", string(rune(c)) + " x", "x " + string(rune(c)), "Ab" + string(rune(c)) + string(rune(c)) + "é"} {
			if got, want := Normalize(s), normalizeReference(s); got != want {
				t.Errorf("Normalize(%q) = %q, want %q", s, got, want)
			}
		}
	}
}

func normalizeReference(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if f, ok := fold[r]; ok {
			b.WriteString(f)
			space = false
			continue
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		case unicode.Is(unicode.Mn, r):
		default:
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}
