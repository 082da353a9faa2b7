package fhirpatch

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// operation is one checked "operation" parameter.
type operation struct {
	op    int            // index in Parameters.parameter
	kind  string         // add | insert | delete | replace | move
	parts map[string]int // part name -> index, for error expressions

	path     []seg
	pathText string
	listName string // insert and move: the list the path's last name names
	name     string
	value    *value
	index    int // insert's index, move's source
	dest     int // move's destination
}

// value is an operation's value part, kept unconverted until the model
// path it lands at is known (a part-built value's members may repeat).
type value struct {
	suffix string // value[x]'s type ("String", "HumanName"); "" otherwise
	json   any    // value[x] or resource content
	ext    any    // "_value[x]": a primitive's id and extensions
	parts  []member
	built  bool // built from parts
}

type member struct {
	name string
	v    *value
}

// partsFor lists the parts besides type that each type needs; it takes no
// others.
var partsFor = map[string][]string{
	"add":     {"path", "name", "value"},
	"insert":  {"path", "value", "index"},
	"delete":  {"path"},
	"replace": {"path", "value"},
	"move":    {"path", "source", "destination"},
}

// parseParameters checks the whole Parameters document.
func parseParameters(data []byte) ([]*operation, *Error) {
	doc, err := decodeObject(data)
	if err != nil {
		return nil, &Error{Op: -1, Reason: "the body is not a JSON object: " + err.Error(), Malformed: true}
	}
	if rt, _ := doc["resourceType"].(string); rt != "Parameters" {
		return nil, &Error{Op: -1, Reason: fmt.Sprintf("a FHIRPath Patch is a Parameters resource, not %s", describeType(doc["resourceType"])),
			Malformed: true}
	}
	raw, ok := doc["parameter"]
	if !ok {
		return nil, nil // no operations: nothing to change
	}
	params, ok := raw.([]any)
	if !ok {
		return nil, &Error{Op: -1, Reason: "parameter is not a list", Malformed: true, at: ".parameter"}
	}
	ops := make([]*operation, 0, len(params))
	for i, p := range params {
		op, err := parseOperation(i, p)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func describeType(rt any) string {
	if s, ok := rt.(string); ok && s != "" {
		return s
	}
	return "a JSON object without resourceType"
}

func parseOperation(i int, raw any) (*operation, *Error) {
	op := &operation{op: i, parts: map[string]int{}}
	malformed := func(part, format string, args ...any) *Error {
		return op.fail(part, true, fmt.Sprintf(format, args...))
	}
	p, ok := raw.(map[string]any)
	if !ok {
		return nil, malformed("", "the parameter is not an object")
	}
	if name, _ := p["name"].(string); name != "operation" {
		return nil, malformed("", "the parameter is named %q; a FHIRPath Patch has only \"operation\" parameters", name)
	}
	parts, ok := p["part"].([]any)
	if !ok || len(parts) == 0 {
		return nil, malformed("", "the operation has no parts")
	}
	byName := map[string]map[string]any{}
	var names []string // in document order, for a stable first complaint
	for j, x := range parts {
		part, _ := x.(map[string]any)
		name, _ := part["name"].(string)
		at := fmt.Sprintf(".parameter[%d].part[%d]", i, j)
		switch {
		case part == nil || name == "":
			return nil, &Error{Op: i, Reason: "an operation part has no name", Malformed: true, at: at}
		case byName[name] != nil:
			return nil, &Error{Op: i, Part: name, Reason: "the part " + name + " is given twice", Malformed: true, at: at}
		}
		byName[name] = part
		names = append(names, name)
		op.parts[name] = j
	}
	if byName["type"] == nil {
		return nil, malformed("", "the operation has no type part")
	}
	op.kind, ok = primitive[string](byName["type"], "valueCode", "valueString")
	required, known := partsFor[op.kind]
	if !ok || !known {
		return nil, malformed("type", "the type must be a code: add, insert, delete, replace or move")
	}
	for _, name := range names {
		if name != "type" && !slices.Contains(required, name) {
			return nil, malformed(name, "%s does not take a %s part", op.kind, name)
		}
	}
	for _, name := range required {
		if byName[name] == nil {
			return nil, malformed("", "%s needs a %s part", op.kind, name)
		}
	}
	if err := op.parsePath(byName["path"]); err != nil {
		return nil, err
	}
	if part := byName["name"]; part != nil {
		if op.name, ok = primitive[string](part, "valueString", "valueCode"); !ok || !isElementName(op.name) {
			return nil, malformed("name", "name must be a string naming an element")
		}
	}
	if part := byName["value"]; part != nil {
		v, err := parseValue(part, fmt.Sprintf(".parameter[%d].part[%d]", i, op.parts["value"]), op)
		if err != nil {
			return nil, err
		}
		op.value = v
	}
	for _, x := range []struct {
		name string
		dst  *int
	}{{"index", &op.index}, {"source", &op.index}, {"destination", &op.dest}} {
		name := x.name
		if part := byName[name]; part != nil {
			n, ok := primitive[json.Number](part, "valueInteger", "valueUnsignedInt", "valuePositiveInt")
			k, err := strconv.Atoi(string(n))
			if !ok || err != nil || k < 0 {
				return nil, malformed(name, "%s must be a non-negative integer", name)
			}
			*x.dst = k
		}
	}
	return op, nil
}

func (op *operation) parsePath(part map[string]any) *Error {
	text, ok := primitive[string](part, "valueString")
	if !ok || strings.TrimSpace(text) == "" {
		return op.fail("path", true, "path must be a string holding a FHIRPath expression")
	}
	segs, err := parsePath(text)
	if err != nil {
		return op.fail("path", true, err.Error())
	}
	op.path, op.pathText = segs, text
	if op.kind == "insert" || op.kind == "move" {
		// The path names the list; its owner is what the path selects
		// without the last name, so an absent list can still be found.
		last, ok := segs[len(segs)-1].(childSeg)
		if !ok {
			return op.fail("path", true, op.kind+" needs a path ending in the list's element name, e.g. Patient.identifier")
		}
		op.path, op.listName = segs[:len(segs)-1], last.name
	}
	return nil
}

// parseValue reads a value part: value[x] (with "_value[x]"), a resource,
// or parts.
func parseValue(part map[string]any, at string, op *operation) (*value, *Error) {
	fail := func(reason string) (*value, *Error) {
		return nil, &Error{Op: op.op, Part: "value", Reason: reason, Malformed: true, at: at}
	}
	v := &value{}
	kinds := 0
	extSuffix := ""
	for k, x := range part {
		switch {
		case k == "name" || k == "id" || k == "extension" || k == "modifierExtension":
		case k == "part":
			kinds++
			list, ok := x.([]any)
			if !ok || len(list) == 0 {
				return fail("part must be a non-empty list")
			}
			v.built = true
			for j, y := range list {
				sub, _ := y.(map[string]any)
				name, _ := sub["name"].(string)
				subAt := fmt.Sprintf("%s.part[%d]", at, j)
				if !isElementName(name) {
					return nil, &Error{Op: op.op, Part: "value", Reason: "a value part needs a name naming an element",
						Malformed: true, at: subAt}
				}
				sv, err := parseValue(sub, subAt, op)
				if err != nil {
					return nil, err
				}
				v.parts = append(v.parts, member{name: name, v: sv})
			}
		case k == "resource":
			kinds++
			if _, ok := x.(map[string]any); !ok {
				return fail("resource must be a resource")
			}
			v.json = x
		case strings.HasPrefix(k, "value") && isUpper(k, len("value")):
			kinds++
			if x == nil {
				return fail(k + " is null")
			}
			v.suffix, v.json = k[len("value"):], x
		case strings.HasPrefix(k, "_value") && isUpper(k, len("_value")):
			if _, ok := x.(map[string]any); !ok {
				return fail(k + " must be an object holding the primitive's id and extensions")
			}
			extSuffix, v.ext = k[len("_value"):], x
		default:
			return fail("unexpected member " + k)
		}
	}
	switch {
	case kinds == 0 && v.ext != nil:
		v.suffix = extSuffix // a primitive with only an id or extensions
	case kinds == 0:
		return fail("the value has no value[x], resource or parts")
	case kinds > 1:
		return fail("the value has more than one of value[x], resource and parts")
	case v.ext != nil && extSuffix != v.suffix:
		return fail("_value" + extSuffix + " does not match value" + v.suffix)
	}
	return v, nil
}

// primitive returns the value of the first of the value[x] names part has,
// when it is a T.
func primitive[T any](part map[string]any, names ...string) (T, bool) {
	var zero T
	for _, n := range names {
		if x, ok := part[n]; ok {
			v, ok := x.(T)
			return v, ok
		}
	}
	return zero, false
}

func (op *operation) fail(part string, malformed bool, reason string) *Error {
	at := fmt.Sprintf(".parameter[%d]", op.op)
	if j, ok := op.parts[part]; ok {
		at += fmt.Sprintf(".part[%d]", j)
	}
	return &Error{Op: op.op, Part: part, Reason: reason, Malformed: malformed, at: at}
}

func isUpper(s string, i int) bool { return i < len(s) && s[i] >= 'A' && s[i] <= 'Z' }

// isElementName reports whether s could be a FHIR JSON element name.
func isElementName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
