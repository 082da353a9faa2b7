package search

import "strings"

// matchString: by default the normalised entry starts with the normalised
// value (case and accents ignored: "Zoë" finds "zoe o brien"); :contains
// finds the value anywhere in it; :exact compares the value as written,
// case and accents included.
func matchString(mod string, v Value, e Entry) bool {
	switch mod {
	case ":exact":
		return e.Exact == v.Exact
	case ":contains":
		return strings.Contains(e.Text, v.Text)
	case "":
		return strings.HasPrefix(e.Text, v.Text)
	}
	return false
}
