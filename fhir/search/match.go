package search

// MatchEntries reports whether a resource with these index entries (the
// entries of all its parameters) satisfies p. It is the reference meaning
// of a predicate that every store must reproduce. It answers only what the
// resource's own entries can: a chain, a _has or _list (which need other
// resources) never matches here.
func (p Predicate) MatchEntries(entries []Entry) bool {
	if p.Param == nil || p.Chain != nil || p.Has != nil {
		return false
	}
	code := p.Param.Code
	if p.Missing != nil {
		present := false
		for _, e := range entries {
			if e.Param == code {
				present = true
				break
			}
		}
		return present != *p.Missing
	}
	kind := p.Value.Kind
	if kind == "" {
		kind = p.Param.Type
	}
	if kind == Special {
		return false
	}
	if p.Modifier == ":not" {
		// No entry matches: a resource without a value matches too.
		for _, e := range entries {
			if e.Param == code && matchEntry(kind, "", p.Value, e) {
				return false
			}
		}
		return true
	}
	for _, e := range entries {
		if e.Param == code && matchEntry(kind, p.Modifier, p.Value, e) {
			return true
		}
	}
	return false
}

// MatchEntries reports whether any of the clause's predicates holds.
func (c Clause) MatchEntries(entries []Entry) bool {
	for _, p := range c.Any {
		if p.MatchEntries(entries) {
			return true
		}
	}
	return false
}

// matchEntry tests one entry of the parameter against a value of the given
// kind under a modifier.
func matchEntry(kind Type, mod string, v Value, e Entry) bool {
	if e.Kind != "" && e.Kind != kind {
		return false
	}
	switch kind {
	case String:
		return matchString(mod, v, e)
	case Token:
		return matchToken(mod, v, e)
	case Date:
		return matchDate(v, e)
	case Number:
		return matchNumber(v, e)
	case Quantity:
		return matchQuantity(v, e)
	case Reference:
		return matchReference(mod, v, e)
	case URI:
		return matchURI(mod, v, e)
	case Composite:
		return matchComposite(v, e)
	}
	return false
}
