package search

import "strings"

// matchURI: the same URI, exactly; :above finds entries that are a prefix
// of the value (the value's parents: url:above=http://x/fhir/ValueSet/1
// finds http://x/fhir/); :below finds entries the value is a prefix of.
func matchURI(mod string, v Value, e Entry) bool {
	switch mod {
	case "":
		return e.URL == v.URI
	case ":above":
		return e.URL != "" && strings.HasPrefix(v.URI, e.URL)
	case ":below":
		return strings.HasPrefix(e.URL, v.URI)
	}
	return false
}
