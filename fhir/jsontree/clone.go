package jsontree

// Clone returns a deep copy of doc (as Decode returns it): its objects and
// arrays are new, its strings, numbers and booleans shared, as they cannot
// be changed in place. It is much cheaper than encoding and decoding again.
func Clone(doc map[string]any) map[string]any {
	c, _ := cloneValue(doc).(map[string]any)
	return c
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return x
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneValue(e)
		}
		return m
	case []any:
		if x == nil {
			return x
		}
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneValue(e)
		}
		return l
	}
	return v
}
