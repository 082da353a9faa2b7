package fhirpath

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// allStep is all(criteria): true when criteria is true for every item
// (and for no items).
type allStep struct{ crit step }

func (s allStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	one := make([]Node, 1)
	defer c.restoreThis(c.this)
	c.this = one
	for _, n := range in {
		one[0] = n
		b, err := evalBool(c, s.crit, one)
		if err != nil {
			return nil, err
		}
		if b != bTrue {
			return falseResult, nil
		}
	}
	return trueResult, nil
}

// hasValueStep is hasValue(): one primitive with a value.
type hasValueStep struct{}

func (hasValueStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	if len(in) != 1 {
		return falseResult, nil
	}
	switch in[0].Value.(type) {
	case map[string]any, []any, nil:
		return falseResult, nil
	}
	return trueResult, nil
}

// boolsStep is allTrue(), anyTrue(), allFalse() and anyFalse().
type boolsStep struct{ want, all bool }

func (s boolsStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	for _, n := range in {
		b, ok := n.Value.(bool)
		if !ok {
			return nil, fmt.Errorf("expected booleans, found %s", kindOf(n))
		}
		if s.all && b != s.want {
			return falseResult, nil
		}
		if !s.all && b == s.want {
			return trueResult, nil
		}
	}
	return boolResult(s.all), nil
}

// distinctStep is distinct(): the items without repeats, in order.
type distinctStep struct{}

func (distinctStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	if len(in) < 2 {
		return in, nil
	}
	out := make([]Node, 0, len(in))
	for _, n := range in {
		out = appendUnique(out, n)
	}
	return out, nil
}

// isDistinctStep is isDistinct().
type isDistinctStep struct{}

func (isDistinctStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	d, _ := distinctStep{}.eval(c, in)
	return boolResult(len(d) == len(in)), nil
}

// iifStep is iif(criterion, then[, otherwise]), evaluated on the input
// (which must hold at most one item).
type iifStep struct{ cond, then, otherwise step }

func (s iifStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	if len(in) > 1 {
		return nil, fmt.Errorf("iif: %w, got %d", errSingleton, len(in))
	}
	focus := in
	if len(in) == 0 {
		focus = c.args()
	}
	defer c.restoreThis(c.this)
	c.this = focus
	b, err := evalBool(c, s.cond, focus)
	if err != nil {
		return nil, err
	}
	if b == bTrue {
		return s.then.eval(c, focus)
	}
	if s.otherwise == nil {
		return nil, nil
	}
	return s.otherwise.eval(c, focus)
}

// singleStep is single(): the one item, or an error when there are more.
type singleStep struct{}

func (singleStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	if len(in) > 1 {
		return nil, fmt.Errorf("single: %w, got %d", errSingleton, len(in))
	}
	return in, nil
}

// combineStep is combine(other): both collections, repeats kept.
type combineStep struct{ other step }

func (s combineStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	o, err := s.other.eval(c, c.args())
	if err != nil {
		return nil, err
	}
	return append(slices.Clip(in), o...), nil
}

// setStep is intersect(other) (keep) and exclude(other).
type setStep struct {
	other step
	keep  bool
}

func (s setStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	o, err := s.other.eval(c, c.args())
	if err != nil {
		return nil, err
	}
	var out []Node
	for _, n := range in {
		found := slices.ContainsFunc(o, func(m Node) bool { return jsonEqual(m.Value, n.Value) })
		if found == s.keep {
			if s.keep {
				out = appendUnique(out, n)
			} else {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// childrenStep is children() and (deep) descendants(): the element values
// under every object, in key order. resourceType is not an element; a
// "_name" primitive-extension sibling stands for the values of name that
// have only extensions.
type childrenStep struct{ deep bool }

func (s childrenStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	var out []Node
	for _, n := range in {
		out = appendChildren(out, n.Value, s.deep)
	}
	return out, nil
}

func appendChildren(out []Node, v any, deep bool) []Node {
	m, ok := v.(map[string]any)
	if !ok {
		return out
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "resourceType" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		start := len(out)
		if name, ok := strings.CutPrefix(k, "_"); ok {
			out = appendExtensionOnly(out, m[name], m[k], name)
		} else {
			out = appendValues(out, m[k], "", k)
		}
		if deep {
			for _, child := range slices.Clone(out[start:]) {
				out = appendChildren(out, child.Value, true)
			}
		}
	}
	return out
}

// appendExtensionOnly adds the "_name" objects of the repeats of name that
// have no value (ext is a single object or an array parallel to values).
func appendExtensionOnly(out []Node, values, ext any, name string) []Node {
	exts, isArray := ext.([]any)
	if !isArray {
		if values == nil && ext != nil {
			out = append(out, Node{Value: ext, Name: name})
		}
		return out
	}
	vals, _ := values.([]any)
	for i, e := range exts {
		if e != nil && (i >= len(vals) || vals[i] == nil) {
			out = append(out, Node{Value: e, Name: name})
		}
	}
	return out
}
