package fhirpatch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// loc is an element the path selected and where it sits: under key in
// obj, at index in the list there (-1 when obj[key] is the element).
type loc struct {
	obj   map[string]any // nil for the resource itself
	key   string         // JSON name: "deceasedBoolean"
	base  string         // the choice element's name ("deceased") when key has a type suffix
	index int
	value any
	typ   string // FHIR type when known, as package fhirpath types nodes
	model string // model path: "Patient.contact.name"; a contained resource restarts it
}

func (l loc) node() fhirpath.Node { return fhirpath.Node{Value: l.value, Type: l.typ, Name: l.key} }

// walker evaluates path segments on one resource.
type walker struct {
	root map[string]any
}

func (w *walker) rootLoc() loc {
	rt, _ := w.root["resourceType"].(string)
	return loc{index: -1, value: w.root, typ: rt, model: rt}
}

func (w *walker) eval(segs []seg) ([]loc, error) {
	return evalSegs(w, segs, []loc{w.rootLoc()})
}

func evalSegs(w *walker, segs []seg, in []loc) ([]loc, error) {
	var err error
	for _, s := range segs {
		if in, err = s.eval(w, in); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// seg is one step of a path: it maps the selected elements to the next.
type seg interface {
	eval(w *walker, in []loc) ([]loc, error)
}

// childSeg selects the element name of every object.
type childSeg struct {
	name string
	nav  *fhirpath.Expr // the name alone, which finds choice elements' typed keys
}

func (s childSeg) eval(w *walker, in []loc) ([]loc, error) {
	var out []loc
	for _, l := range in {
		m, ok := l.value.(map[string]any)
		if !ok {
			continue
		}
		if _, ok := m[s.name]; ok {
			out = appendChildren(out, l, m, s.name, "", "")
			continue
		}
		// Not present under its own name: fhirpath knows the choice types.
		nodes, err := s.nav.EvalFrom(w.root, l.node())
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, n := range nodes {
			if n.Name != s.name && !seen[n.Name] {
				seen[n.Name] = true
				out = appendChildren(out, l, m, n.Name, s.name, n.Type)
			}
		}
	}
	return out, nil
}

// appendChildren adds the elements under key in m, the object at parent.
func appendChildren(out []loc, parent loc, m map[string]any, key, base, typ string) []loc {
	model := parent.model + "." + key
	add := func(v any, i int) {
		l := loc{obj: m, key: key, base: base, index: i, value: v, typ: typ, model: model}
		if rt := resourceType(v); rt != "" {
			l.typ, l.model = rt, rt
		}
		out = append(out, l)
	}
	switch v := m[key].(type) {
	case nil:
	case []any:
		for i, e := range v {
			if e != nil { // a primitive with only extensions has no value to select
				add(e, i)
			}
		}
	default:
		add(v, -1)
	}
	return out
}

func resourceType(v any) string {
	m, _ := v.(map[string]any)
	rt, _ := m["resourceType"].(string)
	return rt
}

// filterSeg keeps the elements for which a fhirpath expression, evaluated
// on each alone, selects something: where(...), ofType(T), as(T), a type
// name. The type it reports is kept.
type filterSeg struct{ expr *fhirpath.Expr }

func (s filterSeg) eval(w *walker, in []loc) ([]loc, error) {
	var out []loc
	for _, l := range in {
		r, err := s.expr.EvalFrom(w.root, l.node())
		if err != nil {
			return nil, err
		}
		if len(r) > 0 {
			if r[0].Type != "" {
				l.typ = r[0].Type
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// indexSeg is [i], first() (0) and last() (-1).
type indexSeg struct{ i int }

func (s indexSeg) eval(_ *walker, in []loc) ([]loc, error) {
	i := s.i
	if i < 0 {
		i = len(in) - 1
	}
	if i < 0 || i >= len(in) {
		return nil, nil
	}
	return in[i : i+1], nil
}

// tailSeg is tail().
type tailSeg struct{}

func (tailSeg) eval(_ *walker, in []loc) ([]loc, error) {
	if len(in) < 2 {
		return nil, nil
	}
	return in[1:], nil
}

// extensionSeg is extension('url').
type extensionSeg struct{ url string }

func (s extensionSeg) eval(_ *walker, in []loc) ([]loc, error) {
	var out []loc
	for _, l := range in {
		m, _ := l.value.(map[string]any)
		list, _ := m["extension"].([]any)
		for i, e := range list {
			if x, ok := e.(map[string]any); ok && x["url"] == s.url {
				out = append(out, loc{obj: m, key: "extension", index: i, value: x, typ: "Extension",
					model: l.model + ".extension"})
			}
		}
	}
	return out, nil
}

// resolveSeg is resolve(), which a patch may only use to reach a resource
// contained in the one patched ("#id").
type resolveSeg struct{}

func (resolveSeg) eval(w *walker, in []loc) ([]loc, error) {
	var out []loc
	contained, _ := w.root["contained"].([]any)
	for _, l := range in {
		m, _ := l.value.(map[string]any)
		ref, _ := m["reference"].(string)
		id, ok := strings.CutPrefix(ref, "#")
		if !ok {
			return nil, fmt.Errorf("resolve() reaches only resources contained in this one, not %q", ref)
		}
		for i, c := range contained {
			if cm, ok := c.(map[string]any); ok && cm["id"] == id {
				rt := resourceType(cm)
				out = append(out, loc{obj: w.root, key: "contained", index: i, value: cm, typ: rt, model: rt})
			}
		}
	}
	return out, nil
}

// groupSeg is a parenthesised path, evaluated on the current elements.
type groupSeg []seg

func (g groupSeg) eval(w *walker, in []loc) ([]loc, error) { return evalSegs(w, g, in) }

// rootSeg is %resource: the resource, whatever the current elements.
type rootSeg struct{}

func (rootSeg) eval(w *walker, _ []loc) ([]loc, error) { return []loc{w.rootLoc()}, nil }

// thisSeg is $this.
type thisSeg struct{}

func (thisSeg) eval(_ *walker, in []loc) ([]loc, error) { return in, nil }

// pathParser reads the path subset a patch can locate (see the package
// documentation); criteria inside where() are left to package fhirpath.
type pathParser struct {
	src string
	pos int
}

// maxNesting bounds the parentheses in a path, which is client input and
// parsed recursively (here and by package fhirpath).
const maxNesting = 32

func parsePath(src string) ([]seg, error) {
	if nesting(src) > maxNesting {
		return nil, fmt.Errorf("path %q: more than %d nested parentheses", src, maxNesting)
	}
	p := &pathParser{src: src}
	segs, err := p.path()
	if err == nil && p.more() {
		err = p.errorf("unexpected %q", p.rest())
	}
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", src, err)
	}
	return segs, nil
}

func (p *pathParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *pathParser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *pathParser) more() bool { p.skipSpace(); return p.pos < len(p.src) }

func (p *pathParser) rest() string {
	r := p.src[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *pathParser) peek(c byte) bool { return p.more() && p.src[p.pos] == c }

// path := term ('.' invocation | '[' n ']')* ('as' type)*
func (p *pathParser) path() ([]seg, error) {
	segs, err := p.term()
	for err == nil {
		switch {
		case p.peek('.'):
			p.pos++
			var s seg
			if s, err = p.invocation(false); err == nil {
				segs = append(segs, s)
			}
		case p.peek('['):
			p.pos++
			p.skipSpace()
			start := p.pos
			for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
				p.pos++
			}
			n, convErr := strconv.Atoi(p.src[start:p.pos])
			if convErr != nil || !p.peek(']') {
				return nil, p.errorf("an indexer must be a non-negative integer")
			}
			p.pos++
			segs = append(segs, indexSeg{i: n})
		case p.keyword("as"):
			var typ string
			if typ, err = p.typeName(); err == nil {
				var s seg
				s, err = compileFilter("ofType(" + typ + ")")
				segs = append(segs, s)
			}
		default:
			return segs, nil
		}
	}
	return nil, err
}

// keyword consumes the word w when it comes next as a whole word.
func (p *pathParser) keyword(w string) bool {
	save := p.pos
	if p.more() && strings.HasPrefix(p.src[p.pos:], w) {
		end := p.pos + len(w)
		if end < len(p.src) && !isIdentByte(p.src[end]) {
			p.pos = end
			return true
		}
	}
	p.pos = save
	return false
}

func (p *pathParser) typeName() (string, error) {
	name, _, err := p.ident()
	if err == nil && (name == "FHIR" || name == "System") && p.peek('.') {
		p.pos++
		var rest string
		rest, _, err = p.ident()
		name += "." + rest
	}
	return name, err
}

func (p *pathParser) term() ([]seg, error) {
	if !p.more() {
		return nil, p.errorf("expected a path")
	}
	switch c := p.src[p.pos]; {
	case c == '(':
		inner, err := p.balanced()
		if err != nil {
			return nil, err
		}
		segs, err := parsePath(inner)
		if err != nil {
			return nil, err
		}
		return []seg{groupSeg(segs)}, nil
	case strings.HasPrefix(p.src[p.pos:], "$this"):
		p.pos += len("$this")
		return []seg{thisSeg{}}, nil
	case c == '%':
		p.pos++
		name, _, err := p.ident()
		if err != nil || name != "resource" && name != "rootResource" {
			return nil, p.errorf("only %%resource and %%rootResource may start a path")
		}
		return []seg{rootSeg{}}, nil
	}
	s, err := p.invocation(true)
	if err != nil {
		return nil, err
	}
	return []seg{s}, nil
}

// invocation reads an element name or a function call; at the start of a
// path a capitalised name is a type.
func (p *pathParser) invocation(first bool) (seg, error) {
	start := p.pos
	name, quoted, err := p.ident()
	if err != nil {
		return nil, err
	}
	if !p.peek('(') {
		if first && !quoted && name[0] >= 'A' && name[0] <= 'Z' {
			return compileFilter(name)
		}
		nav, err := fhirpath.Compile("`" + name + "`")
		if err != nil {
			return nil, p.errorf("%v", err)
		}
		return childSeg{name: name, nav: nav}, nil
	}
	args, err := p.balanced()
	if err != nil {
		return nil, err
	}
	args = strings.TrimSpace(args)
	noArgs := func(s seg) (seg, error) {
		if args != "" {
			return nil, p.errorf("%s() takes no arguments", name)
		}
		return s, nil
	}
	switch name {
	case "where", "ofType", "as":
		s, err := compileFilter(strings.TrimSpace(p.src[start:p.pos]))
		if err != nil {
			return nil, err
		}
		return s, nil
	case "first":
		return noArgs(indexSeg{i: 0})
	case "last":
		return noArgs(indexSeg{i: -1})
	case "tail":
		return noArgs(tailSeg{})
	case "resolve":
		return noArgs(resolveSeg{})
	case "extension":
		url, err := stringLiteral(args)
		if err != nil {
			return nil, p.errorf("extension() takes a url as a string literal")
		}
		return extensionSeg{url: url}, nil
	}
	return nil, p.errorf("%s() does not select elements to patch (supported: where, ofType, as, first, last, tail, extension, resolve)", name)
}

func compileFilter(expr string) (seg, error) {
	e, err := fhirpath.Compile(expr)
	if err != nil {
		return nil, err
	}
	return filterSeg{expr: e}, nil
}

// stringLiteral reads a FHIRPath string literal, escapes and all, by
// letting package fhirpath evaluate it.
func stringLiteral(src string) (string, error) {
	if !strings.HasPrefix(src, "'") {
		return "", fmt.Errorf("not a string literal")
	}
	e, err := fhirpath.Compile(src)
	if err != nil {
		return "", err
	}
	r, err := e.EvalFrom(nil, fhirpath.Node{})
	if err != nil || len(r) != 1 {
		return "", fmt.Errorf("not a string literal")
	}
	s, ok := r[0].Value.(string)
	if !ok {
		return "", fmt.Errorf("not a string literal")
	}
	return s, nil
}

// ident reads a name or a `delimited name`.
func (p *pathParser) ident() (string, bool, error) {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.src) && p.src[p.pos] == '`' {
		end := strings.IndexByte(p.src[p.pos+1:], '`')
		if end <= 0 {
			return "", false, p.errorf("unterminated or empty `name`")
		}
		p.pos += end + 2
		return p.src[start+1 : p.pos-1], true, nil
	}
	for p.pos < len(p.src) && isIdentByte(p.src[p.pos]) && !(p.pos == start && p.src[p.pos] >= '0' && p.src[p.pos] <= '9') {
		p.pos++
	}
	if p.pos == start {
		return "", false, p.errorf("expected a name, found %q", p.rest())
	}
	return p.src[start:p.pos], false, nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// balanced reads from an opening parenthesis to its match, skipping
// strings and delimited names, and returns what is between.
func (p *pathParser) balanced() (string, error) {
	p.skipSpace()
	start := p.pos
	depth := 0
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				p.pos++
				return p.src[start+1 : p.pos-1], nil
			}
		case '\'', '`':
			for p.pos++; p.pos < len(p.src) && p.src[p.pos] != c; p.pos++ {
				if p.src[p.pos] == '\\' {
					p.pos++
				}
			}
		}
		p.pos++
	}
	return "", fmt.Errorf("at %d: unbalanced parenthesis", start)
}

// nesting is the deepest parenthesis nesting in src, strings aside.
func nesting(src string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '(':
			depth++
			deepest = max(deepest, depth)
		case ')':
			depth--
		case '\'', '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		}
	}
	return deepest
}
