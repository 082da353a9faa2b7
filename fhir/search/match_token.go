package search

import "strings"

// matchToken tests one token entry (":not" is the caller's negation of the
// plain match):
//
//	code          the code, in any system (or none)
//	system|code   the code in that system
//	|code         the code with no system
//	system|       any code in that system
//	:text         the entry's normalised text starts with the value's
//	:of-type      identifier type system and code, and the identifier value
//
// Codes and systems compare exactly (case-sensitive).
func matchToken(mod string, v Value, e Entry) bool {
	switch mod {
	case ":text":
		return e.Text != "" && strings.HasPrefix(e.Text, v.Text)
	case ":of-type":
		return e.TypeSystem == v.TypeSystem && e.TypeCode == v.TypeCode && e.Code == v.Code
	case "", ":not":
		return tokenEquals(v.System, v.Code, v.HasSystem, e.System, e.Code)
	}
	return false
}

// tokenEquals is the plain token test, shared with :identifier references.
func tokenEquals(system, code string, hasSystem bool, eSystem, eCode string) bool {
	switch {
	case !hasSystem:
		return eCode == code
	case code == "":
		return eSystem == system
	}
	return eSystem == system && eCode == code
}
