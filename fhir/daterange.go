package fhir

import (
	"fmt"
	"regexp"
	"time"
)

// FHIR date, dateTime and instant lexical forms: a year, a month, a day, or a
// time to the second with optional fraction, always with a zone.
var dateTimeRE = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// ParseDateRange parses a FHIR date, dateTime or instant and returns the
// half-open range [lo, hi) that its precision covers: "2024" is the whole
// year, "2024-03-05T10:00:00Z" is one second. A time without a zone is read
// as UTC, as the server has no other zone to assume.
func ParseDateRange(s string) (lo, hi time.Time, err error) {
	m := dateTimeRE.FindStringSubmatch(s)
	if m == nil {
		return lo, hi, fmt.Errorf("%q is not a valid FHIR date, dateTime or instant", s)
	}
	atoi := func(str string, def int) int {
		if str == "" {
			return def
		}
		n := 0
		for _, c := range str {
			n = n*10 + int(c-'0')
		}
		return n
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		t, perr := time.Parse("-07:00", z)
		if perr != nil {
			return lo, hi, fmt.Errorf("%q has an invalid time zone", s)
		}
		loc = t.Location()
	}
	year, month, day := atoi(m[1], 0), atoi(m[2], 1), atoi(m[3], 1)
	hour, minute, sec := atoi(m[4], 0), atoi(m[5], 0), atoi(m[6], 0)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return lo, hi, fmt.Errorf("%q is out of range", s)
	}
	var nanos int
	if frac := m[7]; frac != "" {
		digits := frac[1:]
		for i := 0; i < 9; i++ {
			nanos *= 10
			if i < len(digits) {
				nanos += int(digits[i] - '0')
			}
		}
	}
	lo = time.Date(year, time.Month(month), day, hour, minute, sec, nanos, loc)
	if lo.Day() != day { // 2023-02-30 normalises to March: reject it
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not a calendar date", s)
	}
	switch {
	case m[2] == "":
		hi = lo.AddDate(1, 0, 0)
	case m[3] == "":
		hi = lo.AddDate(0, 1, 0)
	case m[4] == "":
		hi = lo.AddDate(0, 0, 1)
	case m[6] == "":
		hi = lo.Add(time.Minute)
	case m[7] == "":
		hi = lo.Add(time.Second)
	default:
		// A fraction with n digits covers 10^-n seconds.
		step := time.Second
		for range len(m[7]) - 1 {
			step /= 10
		}
		if step == 0 {
			step = time.Nanosecond
		}
		hi = lo.Add(step)
	}
	return lo.UTC(), hi.UTC(), nil
}
