package search

import (
	"math"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// ixISO4217 is the system a Money's currency is indexed under.
const ixISO4217 = "urn:iso:std:iso:4217"

// Quantity indexing: Num, NumLo, NumHi as for number (from the exact text
// of the value), System and Code (the coded unit) and Text (Quantity.unit
// as written).
//
//	Quantity, SimpleQuantity, Age, Duration, Distance, Count
//	          as above. A comparator widens the range to the open side:
//	          "<5" covers [-max, 5), "<=5" [-max, 5.5), ">5" [5, max),
//	          ">=5" [4.5, max)
//	Money     Code = currency, System = urn:iso:std:iso:4217
//	Range     one entry covering [low's NumLo, high's NumHi), open ends at
//	          ∓math.MaxFloat64 (not infinities, which JSON cannot carry);
//	          Num is the midpoint, or the one end given; units from low,
//	          else high
//	decimal / integer  a bare number, without unit
//
// A Quantity without a value, SampledData and Ratio yield nothing.
func indexQuantity(dst []Entry, code string, n fhirpath.Node) []Entry {
	var e Entry
	if m, ok := n.Value.(map[string]any); ok {
		var ok bool
		if e, ok = ixQuantityValue(m, ixType(n)); !ok {
			return dst
		}
	} else {
		s, ok := ixNumText(n.Value)
		if !ok {
			return dst
		}
		v, lo, hi, ok := ixDecimal(s)
		if !ok {
			return dst
		}
		e = Entry{Num: v, NumLo: lo, NumHi: hi}
	}
	e.Param, e.Kind = code, Quantity
	return append(dst, e)
}

// ixQuantityValue reads a Quantity-like value of FHIR type typ.
func ixQuantityValue(m map[string]any, typ string) (Entry, bool) {
	switch {
	case ixQuantityTypes[typ]:
		s, ok := ixNumText(m["value"])
		if !ok {
			return Entry{}, false
		}
		v, lo, hi, ok := ixDecimal(s)
		if !ok {
			return Entry{}, false
		}
		switch ixStr(m, "comparator") {
		case "<":
			lo, hi = -math.MaxFloat64, v
		case "<=":
			lo = -math.MaxFloat64
		case ">":
			lo, hi = v, math.MaxFloat64
		case ">=":
			hi = math.MaxFloat64
		}
		return Entry{Num: v, NumLo: lo, NumHi: hi, System: ixStr(m, "system"), Code: ixStr(m, "code"), Text: ixStr(m, "unit")}, true
	case typ == "Money":
		s, ok := ixNumText(m["value"])
		if !ok {
			return Entry{}, false
		}
		v, lo, hi, ok := ixDecimal(s)
		if !ok {
			return Entry{}, false
		}
		e := Entry{Num: v, NumLo: lo, NumHi: hi, Code: ixStr(m, "currency")}
		if e.Code != "" {
			e.System = ixISO4217
		}
		return e, true
	case typ == "Range":
		low, lok := ixRangeEnd(m, "low")
		high, hok := ixRangeEnd(m, "high")
		switch {
		case lok && hok:
			e := low
			e.NumHi = high.NumHi
			e.Num = low.Num + (high.Num-low.Num)/2
			return e, e.NumLo <= e.NumHi
		case lok:
			low.NumHi = math.MaxFloat64
			return low, true
		case hok:
			high.NumLo = -math.MaxFloat64
			return high, true
		}
	}
	return Entry{}, false
}

// ixRangeEnd is a Range's low or high (a SimpleQuantity).
func ixRangeEnd(m map[string]any, k string) (Entry, bool) {
	q, ok := m[k].(map[string]any)
	if !ok {
		return Entry{}, false
	}
	return ixQuantityValue(q, "SimpleQuantity")
}
