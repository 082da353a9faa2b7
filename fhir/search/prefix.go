package search

import (
	"math"
	"time"
)

// ApproxFraction is how far the ap prefix reaches: the spec recommends 10%
// of the stated value (ap100 covers [90, 110)) and, for a date, 10% of the
// gap between now and the date (ap2016 searched in 2026 covers roughly
// 2015-01 to 2018-01). The window never shrinks below the value's own
// written precision.
const ApproxFraction = 0.1

// prefixNames are the comparison prefixes, as written.
var prefixNames = map[string]Prefix{
	"eq": Eq, "ne": Ne, "gt": Gt, "lt": Lt, "ge": Ge, "le": Le, "sa": Sa, "eb": Eb, "ap": Ap,
}

// splitPrefix takes a comparison prefix off a number, date or quantity
// value: "ge2013" is (Ge, "2013", true), "2013" is (Eq, "2013", false).
func splitPrefix(s string) (Prefix, string, bool) {
	if len(s) >= 2 {
		if p, ok := prefixNames[s[:2]]; ok {
			return p, s[2:], true
		}
	}
	return Eq, s, false
}

// matchRange applies a prefix the way the R4 prefix table defines it for
// ranges, for dates (µs) and numbers and quantities alike: the search value
// covers [sLo, sHi), the range its written precision implies, the target
// [tLo, tHi), likewise (or a Period's span); apLo/apHi is the ap window.
//
//	eq  the search range fully contains the target range
//	ne  it does not
//	gt  the range above the search range, [sHi, ∞), overlaps the target
//	lt  the range below the search range, (-∞, sLo), overlaps the target
//	ge  gt, or eq
//	le  lt, or eq
//	sa  the target starts at or after the end of the search range
//	eb  the target ends at or before the start of the search range
//	ap  the target overlaps the ap window
//
// "Above the search range" starts where the whole range ends, so gt100
// (search range [99.5, 100.5)) does not find 100.3 ([100.25, 100.35)) and
// gt2013-01-14 does not find a time on that day.
func matchRange[T int64 | float64](p Prefix, sLo, sHi, tLo, tHi, apLo, apHi T) bool {
	switch p {
	case Eq, "":
		return sLo <= tLo && tHi <= sHi
	case Ne:
		return !(sLo <= tLo && tHi <= sHi)
	case Gt:
		return tHi > sHi
	case Lt:
		return tLo < sLo
	case Ge: // gt, or contained: equivalent to this because tLo < tHi
		return tLo >= sLo || tHi > sHi
	case Le:
		return tLo < sLo || tHi <= sHi
	case Sa:
		return tLo >= sHi
	case Eb:
		return tHi <= sLo
	case Ap:
		return tLo < apHi && tHi > apLo
	}
	return false
}

// approxNumber is the ap window of a number: Num ± ApproxFraction·|Num|,
// widened to the written precision [lo, hi).
func approxNumber(v, lo, hi float64) (float64, float64) {
	d := ApproxFraction * math.Abs(v)
	return math.Min(lo, v-d), math.Max(hi, v+d)
}

// approxDate is the ap window of a date range [lo, hi) (µs) searched at
// now: the range widened on both sides by ApproxFraction of the distance
// between now and the range (no widening when now falls inside it).
func approxDate(lo, hi int64, now time.Time) (int64, int64) {
	n := now.UnixMicro()
	var gap int64
	switch {
	case n < lo:
		gap = lo - n
	case n >= hi:
		gap = n - hi
	}
	d := int64(float64(gap) * ApproxFraction)
	return lo - d, hi + d
}
