package profile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// walker holds one validation's state.
type walker struct {
	set    *Set
	ctx    context.Context
	root   map[string]any
	issues []fhir.Issue
	seen   map[string]bool // issue keys, so base and slice checks of one value report once
}

// item is one value of an element in the instance.
type item struct {
	value any    // the JSON value (a primitive's "_name" object when it has only extensions)
	typ   string // its FHIR type when known
	key   string // the JSON key it sits under (valueBoolean for value[x])
	path  string // FHIRPath with indexes, Patient.identifier[0]
}

// Validate checks doc against the profile with this url ("url|version"
// accepted) and returns one issue per violation; none means it conforms.
// An unknown profile is one issue (not-supported).
func (s *Set) Validate(ctx context.Context, url string, doc map[string]any) []fhir.Issue {
	p, ok := s.lookup(url)
	if !ok {
		return []fhir.Issue{issue(fhir.CodeNotSupported, "profile "+url+" is not known to this server")}
	}
	rt := str(doc["resourceType"])
	if rt != p.typ {
		return []fhir.Issue{issue(fhir.CodeStructure, fmt.Sprintf("profile %s is for %s, not %s", url, p.typ, rt), rt)}
	}
	w := &walker{set: s, ctx: ctx, root: doc}
	w.element(p.root, item{value: doc, typ: rt, path: rt})
	if err := ctx.Err(); err != nil {
		w.report(fhir.CodeException, "validation stopped: "+err.Error(), rt)
	}
	return w.issues
}

func issue(code, diagnostics string, expression ...string) fhir.Issue {
	return fhir.Issue{Severity: fhir.SeverityError, Code: code, Diagnostics: diagnostics, Expression: expression}
}

// report adds an error issue once per (code, path, text).
func (w *walker) report(code, diagnostics, path string) {
	k := code + "\x00" + path + "\x00" + diagnostics
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if w.seen[k] {
		return
	}
	w.seen[k] = true
	w.issues = append(w.issues, issue(code, diagnostics, path))
}

// element checks one value against one element (or slice) of the tree,
// then its child elements.
func (w *walker) element(n *node, it item) {
	if w.ctx.Err() != nil {
		return
	}
	w.checkValue(n, it)
	w.checkBinding(n, it)
	w.checkReference(n, it)
	w.checkInvariants(n, it)
	if obj, ok := it.value.(map[string]any); ok {
		for _, c := range n.kids() {
			w.children(c, obj, it.path)
		}
	}
	if tp := n.typeProfile; tp != nil && tp.root != n {
		w.element(tp.root, it)
	}
}

// children checks one child element of obj: its cardinality, its slicing,
// and each of its values.
func (w *walker) children(c *node, obj map[string]any, parentPath string) {
	items := w.itemsOf(c, obj, parentPath)
	d := c.def
	if len(items) < d.min {
		w.report(fhir.CodeRequired, fmt.Sprintf("%s: minimum cardinality is %d, found %d", missingName(d), d.min, len(items)), parentPath+"."+missingName(d))
	}
	if d.max >= 0 && len(items) > d.max {
		name := d.name()
		if len(items) > 0 {
			name = items[0].key
		}
		w.report(fhir.CodeStructure, fmt.Sprintf("%s: maximum cardinality is %d, found %d", name, d.max, len(items)), parentPath+"."+name)
	}
	for _, it := range items {
		w.element(c, it)
	}
	if len(c.slices) > 0 {
		w.slice(c, items, parentPath)
	}
}

// itemsOf lists the values of element c in obj. A choice element
// (value[x]) takes every valueX key naming an R4 type, and reports types
// the element does not allow.
func (w *walker) itemsOf(c *node, obj map[string]any, parentPath string) []item {
	name := c.def.name()
	base, choice := strings.CutSuffix(name, "[x]")
	if !choice {
		return collect(obj, name, c.def.singleType(), parentPath)
	}
	var out []item
	for k := range obj {
		suffix, ok := strings.CutPrefix(k, base)
		if !ok || suffix == "" {
			continue
		}
		typ, ok := choiceSuffixes[suffix]
		if !ok {
			continue
		}
		if !c.def.allowsType(typ) {
			w.report(fhir.CodeStructure, fmt.Sprintf("type %s is not allowed for %s (allowed: %s)", typ, name, typeList(c.def)), parentPath+"."+k)
			continue
		}
		out = append(out, collect(obj, k, typ, parentPath)...)
	}
	return out
}

// collect reads obj[key] (and its "_key" extension sibling) as items.
func collect(obj map[string]any, key, typ, parentPath string) []item {
	v, hasV := obj[key]
	ext, hasExt := obj["_"+key]
	if !hasV && !hasExt {
		return nil
	}
	path := parentPath + "." + key
	vs, isArray := v.([]any)
	es, extArray := ext.([]any)
	if !isArray && !extArray {
		if v == nil {
			if ext == nil {
				return nil
			}
			v = ext
		}
		return []item{{value: v, typ: typ, key: key, path: path}}
	}
	n := max(len(vs), len(es))
	out := make([]item, 0, n)
	for i := range n {
		var x any
		if i < len(vs) {
			x = vs[i]
		}
		if x == nil && i < len(es) {
			x = es[i]
		}
		if x == nil {
			continue
		}
		out = append(out, item{value: x, typ: typ, key: key, path: path + "[" + strconv.Itoa(i) + "]"})
	}
	return out
}

// missingName names an absent element: a choice with one allowed type by
// that type (valueBoolean), else by its own name (value[x], birthDate).
func missingName(d *elementDef) string {
	name := d.name()
	if base, ok := strings.CutSuffix(name, "[x]"); ok && len(d.types) == 1 {
		t := d.types[0].code
		return base + strings.ToUpper(t[:1]) + t[1:]
	}
	return name
}

func typeList(d *elementDef) string {
	var names []string
	for _, t := range d.types {
		names = append(names, t.code)
	}
	return strings.Join(names, ", ")
}
