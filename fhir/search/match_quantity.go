package search

// matchQuantity compares the number as matchNumber does, then the unit:
// number|system|code needs that system and code; number||code needs the
// code (in any system) or the unit as written (Quantity.unit); a bare
// number matches any unit. Units are not converted (5|ucum|g does not find
// 5000 mg).
func matchQuantity(v Value, e Entry) bool {
	if !matchNumber(v, e) {
		return false
	}
	switch {
	case v.System != "":
		return e.System == v.System && e.Code == v.Code
	case v.Code != "":
		return e.Code == v.Code || e.Text == v.Code
	}
	return true
}
