package search

// matchReference: a local value matches the same id (and type, when the
// value has one; without one, also a relative URL equal to the id); a URL value the same URL, and for a canonical with a
// version that version too (without one, any version); :identifier tests
// the entry's identifier as a token.
func matchReference(mod string, v Value, e Entry) bool {
	r := v.Ref
	switch {
	case r == nil:
		return false
	case mod == ":identifier":
		return e.Code != "" && tokenEquals(r.System, r.Code, r.HasSystem, e.System, e.Code)
	case r.URL != "":
		return e.URL == r.URL && (r.Version == "" || e.Version == r.Version)
	case r.ID != "" && r.Type != "":
		return e.RefID == r.ID && e.RefType == r.Type
	case r.ID != "":
		// A bare id with no type known: any type, or a relative canonical
		// indexed as written ("library-x").
		return e.RefID == r.ID || e.URL == r.ID
	}
	return false
}
