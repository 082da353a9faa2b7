package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// fhirSD is where the R4 base definitions live.
const fhirSD = "http://hl7.org/fhir/StructureDefinition/"

// definitions are StructureDefinitions by canonical URL: the R4 base ones
// and, for checking type profiles, ours.
type definitions map[string]*object

// readBase reads the R4 StructureDefinitions (ndjson, gzipped).
func readBase(path string) (definitions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defs := definitions{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		sd, err := decodeObject(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defs[sd.str("url")] = sd
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return defs, nil
}

// snapshot is the element list being built from a base snapshot by
// applying a differential.
type snapshot struct {
	defs  definitions
	elems []*object
	// pristine holds each element as it came from its base (base snapshot,
	// unfolded data type, slice copy) before the differential touched it:
	// a new slice copies these, not the constrained unsliced element.
	pristine map[string]*object
}

// generate returns sd (a differential StructureDefinition) with a snapshot
// expanded from its baseDefinition.
func generate(defs definitions, sd *object) (*object, error) {
	if sd.str("derivation") != "constraint" {
		return nil, fmt.Errorf("%s: derivation must be constraint", sd.str("id"))
	}
	base := defs[sd.str("baseDefinition")]
	if base == nil {
		return nil, fmt.Errorf("%s: base definition %s not found", sd.str("id"), sd.str("baseDefinition"))
	}
	if base.str("type") != sd.str("type") {
		return nil, fmt.Errorf("%s: type %s differs from its base's %s", sd.str("id"), sd.str("type"), base.str("type"))
	}
	s := &snapshot{defs: defs, pristine: map[string]*object{}}
	for _, e := range elements(base, "snapshot") {
		s.add(len(s.elems), e.clone())
	}
	for _, d := range elements(sd, "differential") {
		if err := s.apply(d); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", sd.str("id"), d.str("id"), err)
		}
	}
	out := newObject()
	for _, k := range sd.keys {
		if k == "snapshot" {
			continue
		}
		if k == "differential" {
			snap := newObject()
			list := make([]any, len(s.elems))
			for i, e := range s.elems {
				list[i] = e
			}
			snap.set("element", list)
			out.set("snapshot", snap)
		}
		out.set(k, cloneValue(sd.get(k)))
	}
	return out, nil
}

// elements lists sd.<part>.element.
func elements(sd *object, part string) []*object {
	p, _ := sd.get(part).(*object)
	if p == nil {
		return nil
	}
	list, _ := p.get("element").([]any)
	out := make([]*object, 0, len(list))
	for _, e := range list {
		if o, ok := e.(*object); ok {
			out = append(out, o)
		}
	}
	return out
}

func (s *snapshot) add(at int, e *object) {
	s.elems = slices.Insert(s.elems, at, e)
	s.pristine[e.str("id")] = e.clone()
}

func (s *snapshot) find(id string) int {
	return slices.IndexFunc(s.elems, func(e *object) bool { return e.str("id") == id })
}

// apply merges one differential element into the snapshot, creating it
// first when it is a new slice or a child of a data type not yet unfolded.
func (s *snapshot) apply(d *object) error {
	id := d.str("id")
	if id == "" || d.str("path") == "" {
		return fmt.Errorf("a differential element needs id and path")
	}
	if want := pathOf(id); want != d.str("path") {
		return fmt.Errorf("path %s does not match the id (want %s)", d.str("path"), want)
	}
	i, err := s.ensure(id)
	if err != nil {
		return err
	}
	return merge(s.elems[i], d)
}

// ensure returns the index of element id, creating it when needed.
func (s *snapshot) ensure(id string) (int, error) {
	if i := s.find(id); i >= 0 {
		return i, nil
	}
	dot := strings.LastIndexByte(id, '.')
	if dot < 0 {
		return -1, fmt.Errorf("no element %s in the base", id)
	}
	parentID, last := id[:dot], id[dot+1:]
	if name, slice, ok := strings.Cut(last, ":"); ok {
		return s.newSlice(parentID+"."+name, slice)
	}
	pi, err := s.ensure(parentID)
	if err != nil {
		return -1, err
	}
	if pi+1 < len(s.elems) && strings.HasPrefix(s.elems[pi+1].str("id"), parentID+".") {
		return -1, fmt.Errorf("no element %s: %s has no child %s", id, parentID, last)
	}
	if err := s.unfold(pi); err != nil {
		return -1, err
	}
	if i := s.find(id); i >= 0 {
		return i, nil
	}
	return -1, fmt.Errorf("no element %s: its data type has no %s", id, last)
}

// unfold inserts the children of element i from its data type's
// definition, renamed under the element's id and path.
func (s *snapshot) unfold(i int) error {
	parent := s.elems[i]
	types, _ := parent.get("type").([]any)
	if len(types) != 1 {
		return fmt.Errorf("%s has %d types; constrain it to one before its children", parent.str("id"), len(types))
	}
	code := types[0].(*object).str("code")
	dt := s.defs[fhirSD+code]
	if dt == nil {
		return fmt.Errorf("%s: no definition of type %s to unfold", parent.str("id"), code)
	}
	at := i + 1
	for _, e := range elements(dt, "snapshot")[1:] {
		c := e.clone()
		rest := strings.TrimPrefix(c.str("id"), code)
		c.set("id", parent.str("id")+rest)
		c.set("path", parent.str("path")+strings.TrimPrefix(c.str("path"), code))
		s.add(at, c)
		at++
	}
	return nil
}

// newSlice inserts slice name of the element unsliced (its id), after the
// element's children and earlier slices, as a copy of the element and its
// children as their base defined them.
func (s *snapshot) newSlice(unsliced, name string) (int, error) {
	bi, err := s.ensure(unsliced)
	if err != nil {
		return -1, err
	}
	if !s.elems[bi].has("slicing") {
		return -1, fmt.Errorf("slice %s of %s, which is not sliced", name, unsliced)
	}
	end := bi + 1
	for end < len(s.elems) {
		eid := s.elems[end].str("id")
		if !strings.HasPrefix(eid, unsliced+".") && !strings.HasPrefix(eid, unsliced+":") {
			break
		}
		end++
	}
	sliceID := unsliced + ":" + name
	at := end
	for j := bi; j < end; j++ {
		eid := s.elems[j].str("id")
		if j > bi && !strings.HasPrefix(eid, unsliced+".") {
			continue // another slice or its children
		}
		src := s.pristine[eid]
		if src == nil {
			src = s.elems[j]
		}
		c := src.clone()
		c.set("id", sliceID+strings.TrimPrefix(eid, unsliced))
		if j == bi {
			c.del("slicing")
			c.set("sliceName", name)
			sortKeys(c)
		}
		s.add(at, c)
		at++
	}
	return end, nil
}

// pathOf is an element id without its slice names.
func pathOf(id string) string {
	parts := strings.Split(id, ".")
	for i, p := range parts {
		parts[i], _, _ = strings.Cut(p, ":")
	}
	return strings.Join(parts, ".")
}

// merge applies the differential element d to the snapshot element e: the
// constraints it states replace the base's, except constraints (added)
// and cardinality and types, which may only narrow.
func merge(e, d *object) error {
	for _, k := range d.keys {
		v := d.get(k)
		switch {
		case k == "id" || k == "path":
		case k == "min":
			if err := narrowMin(e, v); err != nil {
				return err
			}
			e.set(k, cloneValue(v))
		case k == "max":
			if err := narrowMax(e, v); err != nil {
				return err
			}
			e.set(k, cloneValue(v))
		case k == "type":
			if err := narrowTypes(e, v); err != nil {
				return err
			}
			e.set(k, cloneValue(v))
		case k == "constraint":
			list, _ := e.get(k).([]any)
			for _, c := range v.([]any) {
				key := c.(*object).str("key")
				if slices.ContainsFunc(list, func(x any) bool { return x.(*object).str("key") == key }) {
					return fmt.Errorf("constraint %s is already defined", key)
				}
				list = append(list, cloneValue(c))
			}
			e.set(k, list)
		case strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern"):
			for _, old := range e.keys {
				if strings.HasPrefix(old, "fixed") || strings.HasPrefix(old, "pattern") {
					e.del(old)
				}
			}
			e.set(k, cloneValue(v))
		default:
			e.set(k, cloneValue(v))
		}
	}
	if minOf(e) > maxOf(e) {
		return fmt.Errorf("min %d is over max %s", minOf(e), e.str("max"))
	}
	sortKeys(e)
	return nil
}

func minOf(e *object) int {
	n, _ := e.get("min").(json.Number)
	i, _ := strconv.Atoi(n.String())
	return i
}

// maxOf is max as a number; "*" is unbounded.
func maxOf(e *object) int {
	m := e.str("max")
	if m == "*" || m == "" {
		return int(^uint(0) >> 1)
	}
	i, _ := strconv.Atoi(m)
	return i
}

func narrowMin(e *object, v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("min %v is not a number", v)
	}
	m, err := strconv.Atoi(n.String())
	if err != nil || m < 0 {
		return fmt.Errorf("min %v is not a count", v)
	}
	if m < minOf(e) {
		return fmt.Errorf("min %d is below the base's %d", m, minOf(e))
	}
	return nil
}

func narrowMax(e *object, v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("max %v is not a string", v)
	}
	probe := newObject()
	probe.set("max", s)
	if s != "*" {
		if n, err := strconv.Atoi(s); err != nil || n < 0 {
			return fmt.Errorf("max %q is neither a count nor *", s)
		}
	}
	if maxOf(probe) > maxOf(e) {
		return fmt.Errorf("max %s is over the base's %s", s, e.str("max"))
	}
	return nil
}

// narrowTypes checks that every type code d gives is one the element
// already allows.
func narrowTypes(e *object, v any) error {
	have, _ := e.get("type").([]any)
	for _, t := range v.([]any) {
		code := t.(*object).str("code")
		if !slices.ContainsFunc(have, func(h any) bool { return h.(*object).str("code") == code }) {
			return fmt.Errorf("type %s is not allowed by the base", code)
		}
	}
	return nil
}

// elementOrder is the order of ElementDefinition's properties in the spec,
// so merged elements read like base ones.
var elementOrder = []string{
	"id", "extension", "modifierExtension", "path", "representation", "sliceName", "sliceIsConstraining",
	"label", "code", "slicing", "short", "definition", "comment", "requirements", "alias", "min", "max",
	"base", "contentReference", "type", "defaultValue", "meaningWhenMissing", "orderMeaning", "fixed",
	"pattern", "example", "minValue", "maxValue", "maxLength", "condition", "constraint", "mustSupport",
	"isModifier", "isModifierReason", "isSummary", "binding", "mapping",
}

func sortKeys(e *object) {
	rank := func(k string) int {
		for i, p := range elementOrder {
			if k == p || (p == "defaultValue" || p == "fixed" || p == "pattern" || p == "minValue" || p == "maxValue") && strings.HasPrefix(k, p) {
				return i
			}
		}
		return len(elementOrder)
	}
	slices.SortStableFunc(e.keys, func(a, b string) int { return rank(a) - rank(b) })
}
