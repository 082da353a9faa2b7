package jsonpatch

import (
	"encoding/json"
	"slices"
)

// A decoded JSON value is one of: nil, bool, string, json.Number, *array or
// *object. Containers are pointers so operations can change them in place.

// object is a JSON object that remembers member order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// set replaces an existing member in place or appends a new one.
func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) remove(k string) {
	delete(o.vals, k)
	o.keys = slices.DeleteFunc(o.keys, func(s string) bool { return s == k })
}

type array struct {
	elems []any
}

// equal compares JSON values as RFC 6902 section 4.6 defines it, except that
// numbers compare by their exact text: in FHIR 1.10 and 1.1 differ.
func equal(a, b any) bool {
	switch a := a.(type) {
	case *object:
		b, ok := b.(*object)
		if !ok || len(a.vals) != len(b.vals) {
			return false
		}
		for k, av := range a.vals {
			bv, ok := b.vals[k]
			if !ok || !equal(av, bv) {
				return false
			}
		}
		return true
	case *array:
		b, ok := b.(*array)
		if !ok || len(a.elems) != len(b.elems) {
			return false
		}
		for i := range a.elems {
			if !equal(a.elems[i], b.elems[i]) {
				return false
			}
		}
		return true
	default:
		// nil, bool, string and json.Number compare by type and value.
		return a == b
	}
}

// clone deep-copies v so a copied value and its source never share
// containers that a later operation might change.
func clone(v any) any {
	switch v := v.(type) {
	case *object:
		c := &object{keys: slices.Clone(v.keys), vals: make(map[string]any, len(v.vals))}
		for k, e := range v.vals {
			c.vals[k] = clone(e)
		}
		return c
	case *array:
		c := &array{elems: make([]any, len(v.elems))}
		for i, e := range v.elems {
			c.elems[i] = clone(e)
		}
		return c
	default:
		return v
	}
}

// kind names v's JSON type for error reasons.
func kind(v any) string {
	switch v.(type) {
	case *object:
		return "object"
	case *array:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	default:
		return "null"
	}
}
