package profile

import (
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpath"
)

// compileDiscriminators compiles the slicing discriminator paths of n.
func compileDiscriminators(n *node) error {
	if n.def.slicing == nil {
		return nil
	}
	for _, d := range n.def.slicing.discriminators {
		e, err := fhirpath.Compile(d.path)
		if err != nil {
			return fmt.Errorf("element %s: slicing discriminator %q: %w", n.def.path, d.path, err)
		}
		n.discriminators = append(n.discriminators, e)
	}
	return nil
}

// slice assigns each value of sliced element c to its first matching
// slice, then checks each slice's cardinality and each value against its
// slice, and rejects values in no slice when the slicing is closed.
func (w *walker) slice(c *node, items []item, parentPath string) {
	assigned := make([][]item, len(c.slices))
	closed := c.def.slicing != nil && c.def.slicing.rules == "closed"
	for _, it := range items {
		matched := false
		for i, s := range c.slices {
			if w.inSlice(c, s, it) {
				assigned[i] = append(assigned[i], it)
				matched = true
				break
			}
		}
		if !matched && closed {
			w.report(fhir.CodeStructure, fmt.Sprintf("%s does not match any slice of %s and the slicing is closed", it.key, c.def.path), it.path)
		}
	}
	name := c.def.name()
	if len(items) > 0 {
		name = items[0].key
	}
	for i, s := range c.slices {
		d := s.def
		got := len(assigned[i])
		if got < d.min {
			w.report(fhir.CodeRequired, fmt.Sprintf("slice %s of %s: minimum cardinality is %d, found %d", d.sliceName, c.def.path, d.min, got), parentPath+"."+name)
		}
		if d.max >= 0 && got > d.max {
			w.report(fhir.CodeStructure, fmt.Sprintf("slice %s of %s: maximum cardinality is %d, found %d", d.sliceName, c.def.path, d.max, got), parentPath+"."+name)
		}
		for _, it := range assigned[i] {
			w.element(s, it)
		}
	}
}

// inSlice reports whether value it belongs to slice s: it must meet every
// discriminator. Without a slicing definition (type slices of a choice
// element, "value[x]:valueQuantity"), the slice name decides.
func (w *walker) inSlice(c, s *node, it item) bool {
	if c.def.slicing == nil || len(c.def.slicing.discriminators) == 0 {
		return s.def.sliceName == it.key || s.def.singleType() != "" && s.def.singleType() == it.typ
	}
	for i, d := range c.def.slicing.discriminators {
		if !w.meets(s, d, c.discriminators[i], it) {
			return false
		}
	}
	return true
}

// meets checks one discriminator.
func (w *walker) meets(s *node, d discriminator, path *fhirpath.Expr, it item) bool {
	actual, err := path.EvalFrom(w.root, fhirpath.Node{Value: it.value, Type: it.typ, Name: it.key})
	if err != nil {
		return false
	}
	switch d.typ {
	case "value", "pattern":
		want, exact, ok := expected(s, d.path)
		if !ok {
			return false
		}
		for _, a := range actual {
			for _, v := range want {
				if exact && equalJSON(a.Value, v) || !exact && holds(a.Value, v) {
					return true
				}
			}
		}
		return false
	case "exists":
		target := descend(s, d.path)
		if target == nil {
			return false
		}
		if target.def.max == 0 {
			return len(actual) == 0
		}
		return target.def.min == 0 || len(actual) > 0
	case "type":
		target := descend(s, d.path)
		if target == nil || target.def.singleType() == "" {
			return false
		}
		for _, a := range actual {
			t := a.Type
			if t == "" {
				t = str(asMap(a.Value)["resourceType"])
			}
			if t == target.def.singleType() {
				return true
			}
		}
		return false
	}
	return false // profile discriminators are not supported
}

// expected reads what a slice requires at a discriminator path: the fixed
// (exact) or pattern value of the element there, or of an ancestor within
// the slice navigated down the rest of the path; for an Extension slice's
// url without one, the slice's type profile.
func expected(s *node, path string) (want []any, exact, ok bool) {
	segs := splitPath(path)
	cur := s
	for i := 0; ; i++ {
		if v, ex := fixedOrPattern(cur); v != nil {
			vals := navigate([]any{v}, segs[i:])
			return vals, ex, len(vals) > 0
		}
		if i == len(segs) {
			break
		}
		next := childNamed(cur, segs[i])
		if next == nil {
			break
		}
		cur = next
	}
	if path == "url" {
		for _, t := range s.def.types {
			if t.code == "Extension" && len(t.profiles) == 1 {
				return []any{t.profiles[0]}, true, true
			}
		}
	}
	return nil, false, false
}

func fixedOrPattern(n *node) (any, bool) {
	if n.def.fixed != nil {
		return n.def.fixed, true
	}
	return n.def.pattern, false
}

// descend finds the element at a discriminator path under slice s.
func descend(s *node, path string) *node {
	cur := s
	for _, seg := range splitPath(path) {
		if cur = childNamed(cur, seg); cur == nil {
			return nil
		}
	}
	return cur
}

// splitPath splits a simple discriminator path; "$this" is no step.
func splitPath(path string) []string {
	if path == "$this" || path == "" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(path, "$this."), ".")
}

func childNamed(n *node, name string) *node {
	for _, c := range n.kids() {
		cn := c.def.name()
		if cn == name || cn == name+"[x]" {
			return c
		}
	}
	return nil
}

// navigate follows element names through JSON values, flattening arrays.
func navigate(vals []any, segs []string) []any {
	for _, seg := range segs {
		var next []any
		for _, v := range vals {
			x, ok := asMap(v)[seg]
			if !ok {
				continue
			}
			if arr, isArr := x.([]any); isArr {
				next = append(next, arr...)
			} else {
				next = append(next, x)
			}
		}
		vals = next
	}
	return vals
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
