package fhirpath

import "fmt"

// unionStep is "a | b": both sides on the same input, duplicates removed
// (within a side too, as FHIRPath says).
type unionStep struct{ l, r step }

func (s unionStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, err := s.l.eval(c, in)
	if err != nil {
		return nil, err
	}
	r, err := s.r.eval(c, in)
	if err != nil {
		return nil, err
	}
	switch {
	case len(l)+len(r) == 0:
		return nil, nil
	case len(r) == 0 && len(l) == 1:
		return l, nil
	case len(l) == 0 && len(r) == 1:
		return r, nil
	}
	out := make([]Node, 0, len(l)+len(r))
	for _, n := range l {
		out = appendUnique(out, n)
	}
	for _, n := range r {
		out = appendUnique(out, n)
	}
	return out, nil
}

func appendUnique(out []Node, n Node) []Node {
	for _, o := range out {
		if jsonEqual(o.Value, n.Value) {
			return out
		}
	}
	return append(out, n)
}

// equalStep is "a = b", or "a != b" when neg is set. Either side empty
// gives empty; otherwise the sides are equal when they have the same
// length and equal items in order.
type equalStep struct {
	l, r step
	neg  bool
}

func (s equalStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, err := s.l.eval(c, in)
	if err != nil {
		return nil, err
	}
	r, err := s.r.eval(c, in)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 || len(r) == 0 {
		return nil, nil
	}
	eq := len(l) == len(r)
	for i := 0; eq && i < len(l); i++ {
		eq = jsonEqual(l[i].Value, r[i].Value)
	}
	return boolResult(eq != s.neg), nil
}

// logicStep is "and" / "or" with FHIRPath's three-valued logic, where an
// empty side is unknown.
type logicStep struct {
	l, r step
	or   bool
}

func (s logicStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, err := evalBool(c, s.l, in)
	if err != nil {
		return nil, err
	}
	// Short-circuit when the left side decides.
	if l == bTrue && s.or {
		return trueResult, nil
	}
	if l == bFalse && !s.or {
		return falseResult, nil
	}
	r, err := evalBool(c, s.r, in)
	if err != nil {
		return nil, err
	}
	switch {
	case s.or && r == bTrue:
		return trueResult, nil
	case !s.or && r == bFalse:
		return falseResult, nil
	case l == bUnknown || r == bUnknown:
		return nil, nil
	}
	// Both known and neither decided: "or" of two falses, "and" of two trues.
	return boolResult(!s.or), nil
}

// isStep is "x is T" (and x.is(T)): whether the single input item is a T.
type isStep struct {
	x   step
	typ string
}

func (s isStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	x, err := s.x.eval(c, in)
	if err != nil || len(x) == 0 {
		return nil, err
	}
	if len(x) > 1 {
		return nil, fmt.Errorf("is %s: %w, got %d", s.typ, errSingleton, len(x))
	}
	ok, _ := isType(x[0], s.typ)
	return boolResult(ok), nil
}

// asStep is "x as T", x.as(T) and x.ofType(T): the items that are a T,
// typed as such when the path had not said. FHIRPath wants one item for
// "as"; like other servers this keeps every matching item, because the
// R4 expressions apply it to repeating elements (useContext.value as
// Quantity).
type asStep struct {
	x   step
	typ string
}

func (s asStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	x, err := s.x.eval(c, in)
	if err != nil || len(x) == 0 {
		return nil, err
	}
	return filterType(x, s.typ), nil
}

// ofTypeStep is ofType(T) (and .as(T)) in a path: filters its input.
type ofTypeStep struct{ typ string }

func (s ofTypeStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	return filterType(in, s.typ), nil
}

func filterType(in []Node, t string) []Node {
	var out []Node
	for _, n := range in {
		if ok, typ := isType(n, t); ok {
			n.Type = typ
			out = append(out, n)
		}
	}
	return out
}

// tri is a FHIRPath boolean: true, false or unknown (empty).
type tri int8

const (
	bUnknown tri = iota
	bFalse
	bTrue
)

// evalBool evaluates s as a condition: empty is unknown, one boolean is
// itself, one other item is true, and more than one item is an error.
func evalBool(c *evalCtx, s step, in []Node) (tri, error) {
	out, err := s.eval(c, in)
	if err != nil {
		return bUnknown, err
	}
	return toBool(out)
}

func toBool(out []Node) (tri, error) {
	switch len(out) {
	case 0:
		return bUnknown, nil
	case 1:
		if b, ok := out[0].Value.(bool); ok && !b {
			return bFalse, nil
		}
		return bTrue, nil
	}
	return bUnknown, fmt.Errorf("condition: %w, got %d", errSingleton, len(out))
}

// The boolean results are shared; steps never modify a collection.
var (
	trueResult  = []Node{{Value: true, Type: "boolean"}}[:1:1]
	falseResult = []Node{{Value: false, Type: "boolean"}}[:1:1]
)

func boolResult(b bool) []Node {
	if b {
		return trueResult
	}
	return falseResult
}
