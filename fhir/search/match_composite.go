package search

// matchComposite: one composite entry (one element of the resource) whose
// parts each match the value's parts, by the parts' own types and
// prefixes. Parts of different elements never combine.
func matchComposite(v Value, e Entry) bool {
	if len(v.Parts) == 0 || len(e.Parts) < len(v.Parts) {
		return false
	}
	for i, pv := range v.Parts {
		kind := pv.Kind
		if kind == "" {
			kind = e.Parts[i].Kind
		}
		if !matchEntry(kind, "", pv, e.Parts[i]) {
			return false
		}
	}
	return true
}
