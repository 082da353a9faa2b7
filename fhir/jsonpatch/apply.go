package jsonpatch

import (
	"errors"
	"fmt"
	"slices"
)

// Apply applies patch, an RFC 6902 JSON Patch document, to doc and returns
// the patched document as compact JSON. Operations apply in order and all or
// nothing: on error the result is nil and doc is untouched. Every error is an
// *Error.
func Apply(doc, patch []byte) ([]byte, error) {
	ops, err := parsePatch(patch)
	if err != nil {
		return nil, err
	}
	root, err := decode(doc)
	if err != nil {
		if dup := (*dupMemberError)(nil); errors.As(err, &dup) {
			return nil, &Error{Op: -1, Reason: "document has a " + dup.Error()}
		}
		return nil, &Error{Op: -1, Reason: "document is not valid JSON: " + err.Error()}
	}
	d := &document{root: root}
	for i, op := range ops {
		if err := d.apply(op); err != nil {
			err.Op = i
			return nil, err
		}
	}
	return encode(d.root), nil
}

// document is a decoded document under patch. The root is held separately
// because operations on the empty pointer replace it.
type document struct {
	root any
}

func (d *document) apply(op operation) *Error {
	atPath := func(err error) *Error { return &Error{Path: op.path, Reason: err.Error()} }
	atFrom := func(err error) *Error { return &Error{Path: op.from, Reason: "from: " + err.Error()} }
	switch op.op {
	case "add":
		if err := d.add(op.ptr, op.value); err != nil {
			return atPath(err)
		}
	case "remove":
		if _, err := d.remove(op.ptr); err != nil {
			return atPath(err)
		}
	case "replace":
		if err := d.replace(op.ptr, op.value); err != nil {
			return atPath(err)
		}
	case "move":
		if op.from == op.path {
			// A move onto itself changes nothing, but the source must exist.
			if _, err := d.get(op.fptr); err != nil {
				return atFrom(err)
			}
			return nil
		}
		v, err := d.remove(op.fptr)
		if err != nil {
			return atFrom(err)
		}
		if err := d.add(op.ptr, v); err != nil {
			return atPath(err)
		}
	case "copy":
		v, err := d.get(op.fptr)
		if err != nil {
			return atFrom(err)
		}
		if err := d.add(op.ptr, clone(v)); err != nil {
			return atPath(err)
		}
	case "test":
		v, err := d.get(op.ptr)
		if err != nil {
			return atPath(err)
		}
		if !equal(v, op.value) {
			return atPath(errors.New("test failed: value differs"))
		}
	}
	return nil
}

// get returns the value ptr names.
func (d *document) get(ptr []string) (any, error) {
	v := d.root
	for _, tok := range ptr {
		var err error
		if v, err = child(v, tok); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// parent returns the container holding the value ptr names; ptr is not empty.
func (d *document) parent(ptr []string) (any, error) {
	return d.get(ptr[:len(ptr)-1])
}

func child(v any, tok string) (any, error) {
	switch c := v.(type) {
	case *object:
		e, ok := c.get(tok)
		if !ok {
			return nil, errors.New("path not found")
		}
		return e, nil
	case *array:
		i, err := arrayIndex(tok, len(c.elems), false)
		if err != nil {
			return nil, err
		}
		return c.elems[i], nil
	default:
		return nil, notContainer(v)
	}
}

func notContainer(v any) error {
	return fmt.Errorf("path not found: cannot descend into a %s", kind(v))
}

func (d *document) add(ptr []string, v any) error {
	if len(ptr) == 0 {
		d.root = v
		return nil
	}
	p, err := d.parent(ptr)
	if err != nil {
		return err
	}
	last := ptr[len(ptr)-1]
	switch c := p.(type) {
	case *object:
		c.set(last, v)
	case *array:
		i, err := arrayIndex(last, len(c.elems), true)
		if err != nil {
			return err
		}
		c.elems = slices.Insert(c.elems, i, v)
	default:
		return notContainer(p)
	}
	return nil
}

// remove deletes the value ptr names and returns it, for move.
func (d *document) remove(ptr []string) (any, error) {
	if len(ptr) == 0 {
		return nil, errors.New("cannot remove the whole document")
	}
	p, err := d.parent(ptr)
	if err != nil {
		return nil, err
	}
	last := ptr[len(ptr)-1]
	switch c := p.(type) {
	case *object:
		v, ok := c.get(last)
		if !ok {
			return nil, errors.New("path not found")
		}
		c.remove(last)
		return v, nil
	case *array:
		i, err := arrayIndex(last, len(c.elems), false)
		if err != nil {
			return nil, err
		}
		v := c.elems[i]
		c.elems = slices.Delete(c.elems, i, i+1)
		return v, nil
	default:
		return nil, notContainer(p)
	}
}

// replace sets the value ptr names, which must already exist.
func (d *document) replace(ptr []string, v any) error {
	if len(ptr) == 0 {
		d.root = v
		return nil
	}
	p, err := d.parent(ptr)
	if err != nil {
		return err
	}
	last := ptr[len(ptr)-1]
	switch c := p.(type) {
	case *object:
		if _, ok := c.get(last); !ok {
			return errors.New("path not found")
		}
		c.set(last, v)
	case *array:
		i, err := arrayIndex(last, len(c.elems), false)
		if err != nil {
			return err
		}
		c.elems[i] = v
	default:
		return notContainer(p)
	}
	return nil
}
