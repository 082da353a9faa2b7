package fhirpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Options supply what Apply needs from the FHIR model.
type Options struct {
	// Element describes the element at a model path: a resource type then
	// element names, a choice element under its JSON name
	// ("Patient.contact.telecom", "Observation.valueQuantity.unit"). Nil
	// treats every element as single and not a choice.
	Element func(path string) ElementInfo
}

// ElementInfo is what the model says of one element.
type ElementInfo struct {
	Repeats bool // a list in JSON, even with one item
	Choice  bool // value[x]: its JSON name is the name plus the value's type
}

// Apply applies the FHIRPath Patch in parameters (a Parameters resource)
// to resource, both JSON, and returns the patched resource. Errors about
// the patch are *Error. Without a model (see ApplyWith) add creates a
// single value under the name given.
func Apply(resource, parameters []byte) ([]byte, error) {
	return ApplyWith(resource, parameters, Options{})
}

// ApplyWith is Apply with the FHIR model knowledge in opts.
func ApplyWith(resource, parameters []byte, opts Options) ([]byte, error) {
	ops, perr := parseParameters(parameters)
	if perr != nil {
		return nil, perr
	}
	doc, err := decodeObject(resource)
	if err != nil {
		return nil, fmt.Errorf("fhirpatch: the resource is not a JSON object: %w", err)
	}
	a := &applier{w: &walker{root: doc}, opts: opts}
	for _, op := range ops {
		if err := a.apply(op); err != nil {
			return nil, err
		}
	}
	prune(doc)
	return encode(doc)
}

type applier struct {
	w    *walker
	opts Options
}

func (a *applier) element(path string) ElementInfo {
	if a.opts.Element == nil {
		return ElementInfo{}
	}
	return a.opts.Element(path)
}

func (a *applier) apply(op *operation) *Error {
	found, err := a.w.eval(op.path)
	if err != nil {
		return op.fail("path", false, err.Error())
	}
	if op.kind == "delete" && len(found) == 0 {
		return nil // deleting what is not there leaves it not there
	}
	if len(found) != 1 {
		return op.fail("path", false, op.selects(found))
	}
	at := found[0]
	switch op.kind {
	case "add":
		return a.add(op, at)
	case "insert":
		return a.insert(op, at)
	case "delete":
		if at.obj == nil {
			return op.fail("path", false, "the resource itself cannot be deleted")
		}
		removeAt(at)
		return nil
	case "replace":
		return a.replace(op, at)
	case "move":
		return a.move(op, at)
	}
	panic("fhirpatch: unchecked operation type " + op.kind)
}

// selects explains a path that did not select exactly one element.
func (op *operation) selects(found []loc) string {
	what := op.pathText
	if op.listName != "" {
		what = fmt.Sprintf("the element holding %s in %s", op.listName, op.pathText)
	}
	if len(found) == 0 {
		return fmt.Sprintf("%s selects nothing", what)
	}
	return fmt.Sprintf("%s selects %d elements; %s needs exactly one", what, len(found), op.kind)
}

func (a *applier) add(op *operation, at loc) *Error {
	obj, ok := at.value.(map[string]any)
	if !ok {
		return op.fail("path", false, fmt.Sprintf("%s selects a primitive value, which has no elements to add to", op.pathText))
	}
	key := op.name
	info := a.element(at.model + "." + key)
	if info.Choice {
		if op.value.suffix == "" {
			return op.fail("value", false, key+" is a choice element, so the value must say its type (value[x])")
		}
		if k := choiceKey(obj, key); k != "" {
			return op.fail("name", false, fmt.Sprintf("%s already has %s; use replace to change it", op.pathText, k))
		}
		key += op.value.suffix
		info = a.element(at.model + "." + key)
	}
	v, ext := a.build(op.value, at.model+"."+key)
	if !addElement(obj, key, v, ext, info.Repeats) {
		return op.fail("name", false, fmt.Sprintf("%s already has %s and it does not repeat; use replace to change it", op.pathText, key))
	}
	return nil
}

// addElement adds an element under key: to the list there, as a new list
// when the element repeats, else as its value. It reports false when key
// already holds a single value.
func addElement(obj map[string]any, key string, v, ext any, repeats bool) bool {
	switch cur := obj[key].(type) {
	case nil:
		if repeats {
			insertAt(obj, key, 0, v, ext)
		} else {
			setSingle(obj, key, v, ext)
		}
	case []any:
		insertAt(obj, key, len(cur), v, ext)
	default:
		return false
	}
	return true
}

// choiceKey finds a choice element's current JSON name in obj.
func choiceKey(obj map[string]any, name string) string {
	for k := range obj {
		if strings.HasPrefix(k, name) && isUpper(k, len(name)) {
			return k
		}
	}
	return ""
}

func (a *applier) replace(op *operation, at loc) *Error {
	if at.obj == nil {
		return op.fail("path", false, "the resource itself cannot be replaced; use update (PUT)")
	}
	key := at.key
	if at.base != "" && op.value.suffix != "" {
		key = at.base + op.value.suffix // deceasedBoolean may become deceasedDateTime
	}
	model := at.model // a contained resource's is its type
	if parent, ok := strings.CutSuffix(at.model, "."+at.key); ok {
		model = parent + "." + key
	}
	v, ext := a.build(op.value, model)
	if at.index >= 0 {
		setAt(at.obj, key, at.index, v, ext)
		return nil
	}
	delete(at.obj, at.key)
	delete(at.obj, "_"+at.key)
	setSingle(at.obj, key, v, ext)
	return nil
}

// list returns the list op names in the element at, checking it is one.
func (a *applier) list(op *operation, at loc) (map[string]any, []any, *Error) {
	obj, ok := at.value.(map[string]any)
	if !ok {
		return nil, nil, op.fail("path", false, fmt.Sprintf("%s selects a primitive value, which has no %s", op.pathText, op.listName))
	}
	switch cur := obj[op.listName].(type) {
	case nil:
		return obj, nil, nil
	case []any:
		return obj, cur, nil
	}
	return nil, nil, op.fail("path", false, op.pathText+" is not a list")
}

func (a *applier) insert(op *operation, at loc) *Error {
	obj, list, err := a.list(op, at)
	if err != nil {
		return err
	}
	model := at.model + "." + op.listName
	if list == nil && a.opts.Element != nil && !a.element(model).Repeats {
		return op.fail("path", false, op.pathText+" does not repeat; use add or replace")
	}
	if op.index > len(list) {
		return op.fail("index", false, fmt.Sprintf("index %d is out of range: %s has %d items", op.index, op.pathText, len(list)))
	}
	v, ext := a.build(op.value, model)
	insertAt(obj, op.listName, op.index, v, ext)
	return nil
}

func (a *applier) move(op *operation, at loc) *Error {
	obj, list, err := a.list(op, at)
	if err != nil {
		return err
	}
	for _, x := range []struct {
		part string
		i    int
	}{{"source", op.index}, {"destination", op.dest}} {
		if x.i >= len(list) {
			return op.fail(x.part, false, fmt.Sprintf("%s %d is out of range: %s has %d items", x.part, x.i, op.pathText, len(list)))
		}
	}
	v, ext := removeIndex(obj, op.listName, op.index)
	insertAt(obj, op.listName, op.dest, v, ext)
	return nil
}

// build turns a value into JSON for the element at model path, and the
// "_name" sibling a primitive's id and extensions go in (nil for none).
func (a *applier) build(v *value, model string) (any, any) {
	if !v.built {
		return v.json, v.ext
	}
	obj := map[string]any{}
	for _, m := range v.parts {
		key := m.name
		info := a.element(model + "." + key)
		if info.Choice && m.v.suffix != "" {
			key += m.v.suffix
			info = a.element(model + "." + key)
		}
		x, ext := a.build(m.v, model+"."+key)
		if !addElement(obj, key, x, ext, info.Repeats) {
			// A name given twice makes a list whatever the model says:
			// validation of the result tells when it may not repeat.
			obj[key] = []any{obj[key]}
			if e, ok := obj["_"+key]; ok {
				obj["_"+key] = []any{e}
			}
			addElement(obj, key, x, ext, true)
		}
	}
	return obj, nil
}

// setSingle stores a non-repeating element and its "_name" sibling; a
// primitive with only extensions has no value.
func setSingle(obj map[string]any, key string, v, ext any) {
	if v != nil {
		obj[key] = v
	}
	if ext != nil {
		obj["_"+key] = ext
	}
}

// insertAt puts an element at i in the list obj[key], keeping the list of
// primitives' extensions in obj["_"+key] aligned with it.
func insertAt(obj map[string]any, key string, i int, v, ext any) {
	list, _ := obj[key].([]any)
	n := len(list)
	obj[key] = slices.Insert(list, i, v)
	exts, ok := obj["_"+key].([]any)
	if !ok && ext == nil {
		return
	}
	setExts(obj, key, slices.Insert(pad(exts, n), i, ext))
}

// setAt replaces the element at i in the list obj[key].
func setAt(obj map[string]any, key string, i int, v, ext any) {
	list := obj[key].([]any)
	list[i] = v
	exts, ok := obj["_"+key].([]any)
	if !ok && ext == nil {
		return
	}
	exts = pad(exts, len(list))
	exts[i] = ext
	setExts(obj, key, exts)
}

// removeIndex takes the element at i out of the list obj[key].
func removeIndex(obj map[string]any, key string, i int) (v, ext any) {
	list := obj[key].([]any)
	n := len(list)
	v = list[i]
	if list = slices.Delete(list, i, i+1); len(list) == 0 {
		delete(obj, key)
	} else {
		obj[key] = list
	}
	if exts, ok := obj["_"+key].([]any); ok {
		exts = pad(exts, n)
		ext = exts[i]
		setExts(obj, key, slices.Delete(exts, i, i+1))
	}
	return v, ext
}

// removeAt deletes the element at l, with its id and extensions.
func removeAt(l loc) {
	if l.index >= 0 {
		removeIndex(l.obj, l.key, l.index)
		return
	}
	delete(l.obj, l.key)
	delete(l.obj, "_"+l.key)
}

// pad extends a "_name" list to n entries; it may be shorter when the
// last primitives have no extensions.
func pad(exts []any, n int) []any {
	for len(exts) < n {
		exts = append(exts, nil)
	}
	return exts
}

// setExts stores a "_name" list, or drops it when nothing in it remains.
func setExts(obj map[string]any, key string, exts []any) {
	for _, e := range exts {
		if e != nil {
			obj["_"+key] = exts
			return
		}
	}
	delete(obj, "_"+key)
}

// prune removes the empty objects and lists that deletes leave behind,
// which FHIR JSON does not allow, and reports whether m is left empty.
func prune(m map[string]any) bool {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			if prune(x) {
				delete(m, k)
			}
		case []any:
			// A "_name" list keeps the positions of the primitives it
			// belongs to; an empty complex element just goes.
			exts := strings.HasPrefix(k, "_")
			kept, live := x[:0], false
			for _, e := range x {
				if o, ok := e.(map[string]any); ok && prune(o) {
					if !exts {
						continue
					}
					e = nil
				}
				live = live || e != nil
				kept = append(kept, e)
			}
			if len(kept) == 0 || exts && !live {
				delete(m, k)
			} else {
				m[k] = kept
			}
		}
	}
	return len(m) == 0
}

// decodeObject parses one JSON object, numbers kept as their text.
func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the object")
	}
	return m, nil
}

// encode renders doc as compact JSON without HTML escaping: FHIR text such
// as "<div>" stays readable.
func encode(doc map[string]any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("fhirpatch: encode: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
