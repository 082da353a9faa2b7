package profile

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"github.com/telederm/telederm/fhir"
)

// checkValue checks fixed[x] (exact) and pattern[x] (contained).
func (w *walker) checkValue(n *node, it item) {
	d := n.def
	if d.fixed != nil && !equalJSON(it.value, d.fixed) {
		w.report(fhir.CodeValue, "value must be exactly "+compact(d.fixed), it.path)
	}
	if d.pattern != nil && !holds(it.value, d.pattern) {
		w.report(fhir.CodeValue, "value must match the pattern "+compact(d.pattern), it.path)
	}
}

// holds reports whether v contains pattern: every element of a pattern
// object is held by v's element, each item of a pattern array by some item
// of v's array, and primitives are equal.
func holds(v, pattern any) bool {
	switch p := pattern.(type) {
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, pv := range p {
			if !holds(m[k], pv) {
				return false
			}
		}
		return true
	case []any:
		arr, ok := v.([]any)
		if !ok {
			if v == nil {
				return len(p) == 0
			}
			arr = []any{v}
		}
		for _, pv := range p {
			found := false
			for _, x := range arr {
				if holds(x, pv) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return equalJSON(v, pattern)
}

// equalJSON compares decoded JSON: numbers by value (1.0 = 1), objects
// and arrays element by element.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !equalJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		ra, okA := new(big.Rat).SetString(string(x))
		rb, okB := new(big.Rat).SetString(string(y))
		return okA && okB && ra.Cmp(rb) == 0
	case string, bool, nil:
		return a == b
	}
	return false
}

// compact renders a fixed or pattern value for a diagnostic.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortStrings(s []string) { sort.Strings(s) }
