package search

import (
	"math"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpath"
)

// Date indexing: the half-open instant range [Lo, Hi) a value covers at its
// precision, in microseconds since the Unix epoch.
//
//	date, dateTime, instant   fhir.ParseDateRange ("2024" is the whole
//	                          year); a time-only or malformed value is skipped
//	Period                    [start's Lo, end's Hi); an absent end is open
//	                          (math.MinInt64 / math.MaxInt64); a Period with
//	                          neither, or with a malformed end, is skipped
//	Timing                    each event, and repeat.boundsPeriod as a Period
//
// Other types (an Age or Range onset, a string) yield nothing.
func indexDate(dst []Entry, code string, n fhirpath.Node) []Entry {
	add := func(lo, hi int64) {
		dst = append(dst, Entry{Param: code, Kind: Date, Lo: lo, Hi: hi})
	}
	switch v := n.Value.(type) {
	case string:
		if n.Type == "time" {
			return dst
		}
		if lo, hi, ok := ixDateRange(v); ok {
			add(lo, hi)
		}
	case map[string]any:
		switch ixType(n) {
		case "Period":
			if lo, hi, ok := ixPeriodRange(v); ok {
				add(lo, hi)
			}
		case "Timing":
			for _, ev := range ixStrs(v, "event") {
				if lo, hi, ok := ixDateRange(ev); ok {
					add(lo, hi)
				}
			}
			if rep, ok := v["repeat"].(map[string]any); ok {
				if b, ok := rep["boundsPeriod"].(map[string]any); ok {
					if lo, hi, ok := ixPeriodRange(b); ok {
						add(lo, hi)
					}
				}
			}
		}
	}
	return dst
}

// ixDateRange is a date, dateTime or instant's range in µs.
func ixDateRange(s string) (lo, hi int64, ok bool) {
	l, h, err := fhir.ParseDateRange(s)
	if err != nil {
		return 0, 0, false
	}
	return l.UnixMicro(), ixCeilMicro(h), true
}

// ixCeilMicro is t in µs rounded up, so a range finer than a microsecond
// ("…:00.1234567Z") still covers the microsecond it falls in.
func ixCeilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// ixPeriodRange is a Period's range: from start's low end to end's high end,
// open where an end is absent.
func ixPeriodRange(p map[string]any) (lo, hi int64, ok bool) {
	start, end := ixStr(p, "start"), ixStr(p, "end")
	if start == "" && end == "" {
		return 0, 0, false
	}
	lo, hi = math.MinInt64, math.MaxInt64
	if start != "" {
		l, _, ok := ixDateRange(start)
		if !ok {
			return 0, 0, false
		}
		lo = l
	}
	if end != "" {
		_, h, ok := ixDateRange(end)
		if !ok {
			return 0, 0, false
		}
		hi = h
	}
	if hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}
