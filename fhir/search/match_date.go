package search

// matchDate compares the entry's range [Lo, Hi) with the search value's
// range as the R4 prefix table defines for ranges (see matchRange): both
// sides keep their precision, so eq2013-01-14 holds 2013-01-14T10:00 and
// the day 2013-01-14 but not the month 2013-01, and a Period is its whole
// span (open ends reach to the end of time).
func matchDate(v Value, e Entry) bool {
	return matchRange(v.Prefix, v.Lo, v.Hi, e.Lo, e.Hi, v.ApLo, v.ApHi)
}
