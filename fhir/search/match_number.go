package search

// matchNumber follows R4's number examples: eq, ne and ap read the search
// value at its written precision and compare ranges (see matchRange):
// number=100 finds 100 and 100.2 but not 100.5 nor 99.5, and number=100.00
// does not find a value written "100"; gt, lt, ge and le compare the stored
// value with the exact search value ("gt100: greater than exactly 100").
func matchNumber(v Value, e Entry) bool {
	switch v.Prefix {
	case Gt:
		return e.Num > v.Num
	case Lt:
		return e.Num < v.Num
	case Ge:
		return e.Num >= v.Num
	case Le:
		return e.Num <= v.Num
	}
	return matchRange(v.Prefix, v.NumLo, v.NumHi, e.NumLo, e.NumHi, v.ApNumLo, v.ApNumHi)
}
