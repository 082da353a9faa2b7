package jsonpatch

import (
	"encoding/json"
	"errors"
	"fmt"
)

// operation is one parsed and validated patch operation.
type operation struct {
	op         string
	path, from string   // as written, for errors
	ptr, fptr  []string // path and from, parsed
	value      any
}

// parsePatch reads and validates the whole patch before any of it is applied,
// so a malformed operation is reported even when an earlier one would fail.
func parsePatch(patch []byte) ([]operation, error) {
	dec := newDecoder(patch)
	tok, err := token(dec)
	if err != nil {
		return nil, &Error{Op: -1, Reason: "patch is not valid JSON: " + err.Error()}
	}
	if tok != json.Delim('[') {
		return nil, &Error{Op: -1, Reason: "patch must be a JSON array of operations"}
	}
	var ops []operation
	for i := 0; dec.More(); i++ {
		v, err := decodeValue(dec, 1)
		if dup := (*dupMemberError)(nil); errors.As(err, &dup) {
			return nil, &Error{Op: i, Reason: dup.Error()}
		}
		if err != nil {
			return nil, &Error{Op: -1, Reason: "patch is not valid JSON: " + err.Error()}
		}
		op, perr := parseOperation(i, v)
		if perr != nil {
			return nil, perr
		}
		ops = append(ops, op)
	}
	if _, err := token(dec); err != nil { // the closing ']'
		return nil, &Error{Op: -1, Reason: "patch is not valid JSON: " + err.Error()}
	}
	if err := expectEOF(dec); err != nil {
		return nil, &Error{Op: -1, Reason: "patch is not valid JSON: " + err.Error()}
	}
	return ops, nil
}

func parseOperation(i int, v any) (operation, *Error) {
	o, ok := v.(*object)
	if !ok {
		return operation{}, &Error{Op: -1, Reason: fmt.Sprintf("patch element %d is a JSON %s, not an operation object", i, kind(v))}
	}
	fail := func(path, reason string) (operation, *Error) {
		return operation{}, &Error{Op: i, Path: path, Reason: reason}
	}
	var op operation
	var err error
	if op.op, err = stringMember(o, "op"); err != nil {
		// Name the path when there is one, to help find the operation.
		p, _ := o.vals["path"].(string)
		return fail(p, err.Error())
	}
	if op.path, err = stringMember(o, "path"); err != nil {
		return fail("", err.Error())
	}
	if op.ptr, err = parsePointer(op.path); err != nil {
		return fail(op.path, err.Error())
	}
	switch op.op {
	case "add", "replace", "test":
		if op.value, ok = o.get("value"); !ok {
			return fail(op.path, `missing "value"`)
		}
	case "move", "copy":
		if op.from, err = stringMember(o, "from"); err != nil {
			return fail(op.path, err.Error())
		}
		if op.fptr, err = parsePointer(op.from); err != nil {
			return fail(op.from, "from: "+err.Error())
		}
		if op.op == "move" && isPrefix(op.fptr, op.ptr) {
			return fail(op.path, "cannot move a value into one of its own children")
		}
	case "remove":
	default:
		return fail(op.path, fmt.Sprintf("unknown op %q", op.op))
	}
	return op, nil
}

// stringMember returns the string member name of o.
func stringMember(o *object, name string) (string, error) {
	v, ok := o.get(name)
	if !ok {
		return "", fmt.Errorf("missing %q", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%q must be a string, not a %s", name, kind(v))
	}
	return s, nil
}
