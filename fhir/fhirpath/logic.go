package fhirpath

import (
	"fmt"
	"strings"
)

// impliesStep is "a implies b": true when a is false, b when a is true,
// and when a is empty true only if b is true (else empty).
type impliesStep struct{ l, r step }

func (s impliesStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, err := evalBool(c, s.l, in)
	if err != nil {
		return nil, err
	}
	if l == bFalse {
		return trueResult, nil
	}
	r, err := evalBool(c, s.r, in)
	if err != nil {
		return nil, err
	}
	switch {
	case r == bTrue:
		return trueResult, nil
	case l == bTrue && r == bFalse:
		return falseResult, nil
	}
	return nil, nil
}

// xorStep is "a xor b": empty when either side is.
type xorStep struct{ l, r step }

func (s xorStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, err := evalBool(c, s.l, in)
	if err != nil || l == bUnknown {
		return nil, err
	}
	r, err := evalBool(c, s.r, in)
	if err != nil || r == bUnknown {
		return nil, err
	}
	return boolResult(l != r), nil
}

// memberStep is "item in list" and "list contains item": empty when the
// item is empty, false when the list is.
type memberStep struct{ item, list step }

func (s memberStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	item, err := s.item.eval(c, in)
	if err != nil || len(item) == 0 {
		return nil, err
	}
	if len(item) > 1 {
		return nil, fmt.Errorf("in/contains: %w, got %d", errSingleton, len(item))
	}
	list, err := s.list.eval(c, in)
	if err != nil {
		return nil, err
	}
	for _, n := range list {
		if jsonEqual(n.Value, item[0].Value) {
			return trueResult, nil
		}
	}
	return falseResult, nil
}

// equivStep is "a ~ b" (or "!~"): two empties are equivalent, strings
// compare ignoring case and runs of white space, and collections compare
// in any order.
type equivStep struct {
	l, r step
	neg  bool
}

func (s equivStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, err := s.l.eval(c, in)
	if err != nil {
		return nil, err
	}
	r, err := s.r.eval(c, in)
	if err != nil {
		return nil, err
	}
	eq := len(l) == len(r)
	for i := 0; eq && i < len(l); i++ {
		found := false
		for _, b := range r {
			if equivalent(l[i].Value, b.Value) {
				found = true
				break
			}
		}
		eq = found
	}
	return boolResult(eq != s.neg), nil
}

func equivalent(a, b any) bool {
	x, okA := a.(string)
	y, okB := b.(string)
	if okA && okB {
		return strings.EqualFold(strings.Join(strings.Fields(x), " "), strings.Join(strings.Fields(y), " "))
	}
	return jsonEqual(a, b)
}
