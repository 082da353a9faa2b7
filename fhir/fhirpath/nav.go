package fhirpath

import (
	"slices"
	"sort"
	"strings"
)

// pathStep runs its steps one after another, each on the previous output.
// It does not stop at an empty collection: empty(), count() and exists()
// have answers for it.
type pathStep []step

func (p pathStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	var err error
	for _, s := range p {
		if in, err = s.eval(c, in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// childStep navigates to the element name of every object in the input.
// Arrays flatten; JSON nulls (placeholders beside "_name" extensions) are
// skipped. When the object has no such key, name is tried as a choice
// element: "value" finds "valueQuantity", typed by the suffix.
type childStep struct {
	name   string
	choice bool // name is an R4 choice element's (choiceNames)
}

func (s childStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	var out []Node
	for _, n := range in {
		m, ok := n.Value.(map[string]any)
		if !ok {
			continue
		}
		if v, ok := m[s.name]; ok {
			out = appendValues(out, v, "", s.name)
			continue
		}
		// Absent: only a choice element's name can match "<name><Type>",
		// and looking means going through every member; most elements a
		// search parameter or invariant asks for are absent.
		if s.choice {
			out = appendChoice(out, m, s.name)
		}
	}
	return out, nil
}

func appendValues(out []Node, v any, typ, name string) []Node {
	switch x := v.(type) {
	case nil:
	case []any:
		out = slices.Grow(out, len(x))
		for _, e := range x {
			out = appendValues(out, e, typ, name)
		}
	case map[string]any:
		if typ == "" {
			typ = resourceTypeOf(x)
		}
		out = append(out, Node{Value: x, Type: typ, Name: name})
	default:
		out = append(out, Node{Value: x, Type: typ, Name: name})
	}
	return out
}

// notChoices are the R4 elements whose name is a sibling element's name
// followed by a type (TestScript assert has response and responseCode,
// DiagnosticReport conclusion and conclusionCode): they are never the
// value of a choice, so "conclusion" does not find conclusionCode. No R4
// choice element has a type that would make one of these keys.
var notChoices = map[string]bool{
	"formCode": true, "dataPeriod": true, "typeReference": true, "paymentDate": true,
	"reasonCode": true, "reasonReference": true, "subscriberId": true, "languageCode": true,
	"conclusionCode": true, "preAuthRefPeriod": true, "statusDate": true,
	"instantiatesCanonical": true, "instantiatesUri": true, "sourceId": true,
	"sequenceAttachment": true, "nTerminalModificationId": true,
	"cTerminalModificationId": true, "organismId": true, "responseCode": true,
}

// appendChoice adds the values of every "<name><Type>" key of m, in key
// order (a valid resource has at most one).
func appendChoice(out []Node, m map[string]any, name string) []Node {
	var keys []string
	for k := range m {
		if len(k) > len(name) && strings.HasPrefix(k, name) && !notChoices[k] {
			if _, ok := choiceTypes[k[len(name):]]; ok {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) > 1 {
		sort.Strings(keys)
	}
	for _, k := range keys {
		out = appendValues(out, m[k], choiceTypes[k[len(name):]], k)
	}
	return out
}

// typeStep is a path's leading type name ("Patient" in "Patient.name"): it
// keeps the resources of that type ("Resource" and "DomainResource" keep
// every resource, every domain resource), so an expression covering
// several bases selects nothing from the others.
type typeStep struct{ name string }

func (s typeStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	keep := func(n Node) bool {
		rt := n.Type // set for resources, saving a map lookup
		if rt == "" {
			rt = resourceTypeOf(n.Value)
		}
		return typeMatches(rt, s.name, n.Value)
	}
	for i, n := range in {
		if !keep(n) {
			// Copy only when something is dropped: the usual input is the
			// single root resource, which either passes whole or not at all.
			out := append([]Node(nil), in[:i]...)
			for _, n := range in[i+1:] {
				if keep(n) {
					out = append(out, n)
				}
			}
			return out, nil
		}
	}
	return in, nil
}

// thisStep is $this: the input itself.
type thisStep struct{}

func (thisStep) eval(_ *evalCtx, in []Node) ([]Node, error) { return in, nil }

// resourceStep is %resource / %rootResource.
type resourceStep struct{}

func (resourceStep) eval(c *evalCtx, _ []Node) ([]Node, error) {
	if c.resource == nil {
		return nil, nil
	}
	return []Node{{Value: c.resource, Type: resourceTypeOf(c.resource)}}, nil
}

// contextStep is %context: the focus the evaluation started from.
type contextStep struct{}

func (contextStep) eval(c *evalCtx, _ []Node) ([]Node, error) { return c.start[:], nil }

// literalStep is a constant collection (a literal, or {}).
type literalStep []Node

func (l literalStep) eval(*evalCtx, []Node) ([]Node, error) { return l, nil }
