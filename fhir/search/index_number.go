package search

import (
	"math"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// Number indexing: Num and the range [NumLo, NumHi) the value's written
// precision implies (DecimalRange of the exact JSON text, so "1.10" keeps
// its two decimals). Integers are read the same way ("100" covers [99.5,
// 100.5)).
//
//	decimal, integer, positiveInt, unsignedInt   the number
//	Quantity (and profiles)                      its value
//	Range                                        as for quantity (low..high)
//
// Anything else yields nothing.
func indexNumber(dst []Entry, code string, n fhirpath.Node) []Entry {
	if m, ok := n.Value.(map[string]any); ok {
		e, ok := ixQuantityValue(m, ixType(n))
		if !ok {
			return dst
		}
		return append(dst, Entry{Param: code, Kind: Number, Num: e.Num, NumLo: e.NumLo, NumHi: e.NumHi})
	}
	s, ok := ixNumText(n.Value)
	if !ok {
		return dst
	}
	v, lo, hi, ok := ixDecimal(s)
	if !ok {
		return dst
	}
	return append(dst, Entry{Param: code, Kind: Number, Num: v, NumLo: lo, NumHi: hi})
}

// ixDecimal is DecimalRange, except that a value written with more digits
// than a float64 holds ("66.899999999999991") still covers a range that is
// not empty: at least [v, the next float up).
func ixDecimal(s string) (v, lo, hi float64, ok bool) {
	v, lo, hi, err := DecimalRange(s)
	if err != nil {
		return 0, 0, 0, false
	}
	if lo > v {
		lo = v
	}
	if hi <= v {
		hi = math.Nextafter(v, math.Inf(1))
	}
	return v, lo, hi, true
}
