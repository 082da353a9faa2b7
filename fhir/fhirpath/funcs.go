package fhirpath

import (
	"encoding/json"
	"strconv"
)

// whereStep is where(criteria): the items for which criteria is true.
type whereStep struct{ crit step }

func (s whereStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	var out []Node
	one := make([]Node, 1) // reused focus: criteria results are read, never kept
	defer c.restoreThis(c.this)
	c.this = one
	for _, n := range in {
		one[0] = n
		b, err := evalBool(c, s.crit, one)
		if err != nil {
			return nil, err
		}
		if b == bTrue {
			out = append(out, n)
		}
	}
	return out, nil
}

// selectStep is select(projection): the projection of every item, flattened.
type selectStep struct{ proj step }

func (s selectStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	var out []Node
	one := make([]Node, 1)
	defer c.restoreThis(c.this)
	c.this = one
	for _, n := range in {
		one[0] = n
		r, err := s.proj.eval(c, one)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

// existsStep is exists() and exists(criteria).
type existsStep struct{ crit step }

func (s existsStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	if s.crit == nil {
		return boolResult(len(in) > 0), nil
	}
	r, err := whereStep(s).eval(c, in)
	return boolResult(len(r) > 0), err
}

// emptyStep is empty().
type emptyStep struct{}

func (emptyStep) eval(_ *evalCtx, in []Node) ([]Node, error) { return boolResult(len(in) == 0), nil }

// notStep is not(): empty stays empty.
type notStep struct{}

func (notStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	b, err := toBool(in)
	if err != nil || b == bUnknown {
		return nil, err
	}
	return boolResult(b == bFalse), nil
}

// countStep is count().
type countStep struct{}

func (countStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	return []Node{{Value: json.Number(strconv.Itoa(len(in))), Type: "integer"}}, nil
}

// indexStep is [i], first() (i = 0), last() (i = -1) and tail() (rest).
type indexStep struct {
	i    int
	tail bool
}

func (s indexStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	switch {
	case s.tail:
		if len(in) < 2 {
			return nil, nil
		}
		return in[1:], nil
	case s.i < 0:
		if len(in) == 0 {
			return nil, nil
		}
		return in[len(in)-1:], nil
	case s.i < len(in):
		return in[s.i : s.i+1 : s.i+1], nil
	}
	return nil, nil
}

// extensionStep is extension(url): the extensions of every item with that
// url.
type extensionStep struct{ url string }

func (s extensionStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	var out []Node
	for _, n := range in {
		m, _ := n.Value.(map[string]any)
		list, _ := m["extension"].([]any)
		for _, e := range list {
			if x, ok := e.(map[string]any); ok && x["url"] == s.url {
				out = append(out, Node{Value: x, Type: "Extension", Name: "extension"})
			}
		}
	}
	return out, nil
}

// hasExtensionStep is hasExtension(url): whether any item has such an
// extension.
type hasExtensionStep struct{ url string }

func (s hasExtensionStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	found, _ := extensionStep(s).eval(c, in)
	return boolResult(len(found) > 0), nil
}
