package rest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpath"
	"github.com/telederm/telederm/fhir/search"
)

// linkExprs are, by type, the compiled expressions of the reference
// parameters that place a resource in a Patient compartment. Testing a
// stored resource for membership evaluates only these (and reads only
// references), not every search parameter of its type: it is the one
// extra cost of a patient-confined read.
type linkExprs struct {
	// base is the server's base URL without its scheme and with a
	// trailing slash: a reference by http or https under it is local.
	base  string
	links map[string][]linkExpr
	// names are, by type, the element names the expressions mention: the
	// only top-level elements worth decoding (a choice element such as
	// valueReference by its stem).
	names map[string][]string
}

type linkExpr struct {
	code    string
	expr    *fhirpath.Expr
	targets []string
}

func newLinkExprs(reg *search.Registry, baseURL string) *linkExprs {
	l := &linkExprs{links: map[string][]linkExpr{}, names: map[string][]string{}}
	if b := strings.TrimRight(strings.TrimSpace(baseURL), "/"); b != "" {
		if i := strings.Index(b, "://"); i >= 0 {
			b = b[i+3:]
		}
		l.base = b + "/"
	}
	for _, typ := range fhir.CompartmentTypes("Patient") {
		codes, _ := fhir.CompartmentParams("Patient", typ)
		for _, code := range codes {
			p, ok := reg.Lookup(typ, code)
			if !ok || p.Type != search.Reference {
				continue
			}
			own := ownParts(typ, p.Expression)
			e, err := fhirpath.Compile(own)
			if err != nil { // the registry's own compilation, then
				own, e = p.Expression, reg.Expr(p)
			}
			if e != nil {
				l.links[typ] = append(l.links[typ], linkExpr{code: code, expr: e, targets: p.Targets})
				l.names[typ] = append(l.names[typ], elementNames(own)...)
			}
		}
	}
	return l
}

// ownParts keeps the members of a union expression that are about typ
// (or do not say which type they are about): a parameter shared by many
// types ("subject") is evaluated for one type only.
func ownParts(typ, expr string) string {
	var own []string
	for _, part := range strings.Split(expr, "|") {
		part = strings.TrimSpace(part)
		head, _, _ := strings.Cut(strings.TrimLeft(part, "("), ".")
		if !fhir.IsResourceType(head) || head == typ {
			own = append(own, part)
		}
	}
	return strings.Join(own, " | ")
}

// elementNames lists the identifiers of a FHIRPath expression that can
// name elements: the lower-case ones, but for the functions these
// expressions call.
func elementNames(expr string) []string {
	words := strings.FieldsFunc(expr, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	})
	var out []string
	for _, w := range words {
		switch w {
		case "where", "resolve", "is", "as", "ofType", "exists", "and", "or", "not":
			continue
		}
		if w[0] >= 'a' && w[0] <= 'z' && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// refer reports whether the stored JSON of a resource of typ refers to
// Patient/pid through one of its compartment parameters. Only the
// elements those parameters read are decoded. It reads references as the
// search index does, or more strictly: a reference it does not recognise
// leaves the resource out (a 404 where a search might show it), never in.
func (l *linkExprs) refer(typ string, body []byte, pid string) (bool, error) {
	names := l.names[typ]
	doc, err := pickMembers(body, func(name string) bool {
		return name == "resourceType" || slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(name, n) })
	})
	if err != nil {
		return false, err
	}
	for _, le := range l.links[typ] {
		nodes, err := le.expr.Eval(doc)
		if err != nil {
			return false, fmt.Errorf("compartment parameter %s: %w", le.code, err)
		}
		for _, n := range nodes {
			ref, ok := n.Value.(map[string]any)
			if !ok {
				continue
			}
			if _, isResource := ref["resourceType"]; isResource {
				continue
			}
			text, _ := ref["reference"].(string)
			refType, _ := ref["type"].(string)
			if t, id, ok := l.local(strings.TrimSpace(text), refType, le.targets); ok && t == "Patient" && id == pid {
				return true, nil
			}
		}
	}
	return false, nil
}

// local reads a Reference.reference to a resource on this server:
// "Type/id", "Type/id/_history/n", either under the server's base URL (by
// http or https), or a bare id typed by Reference.type or by the
// parameter's one target.
func (l *linkExprs) local(ref, refType string, targets []string) (typ, id string, ok bool) {
	for _, scheme := range []string{"http://", "https://"} {
		if len(ref) > len(scheme) && strings.EqualFold(ref[:len(scheme)], scheme) {
			rest := ref[len(scheme):]
			if l.base == "" || len(rest) <= len(l.base) || !strings.EqualFold(rest[:len(l.base)], l.base) {
				return "", "", false
			}
			ref = rest[len(l.base):]
		}
	}
	typ, rest, found := strings.Cut(ref, "/")
	if !found {
		typ, rest = refType, ref
		if typ == "" && len(targets) == 1 {
			typ = targets[0]
		}
	}
	id, version, versioned := strings.Cut(rest, "/")
	if versioned {
		n, ok := strings.CutPrefix(version, "_history/")
		if !ok || n == "" || strings.Contains(n, "/") {
			return "", "", false
		}
	}
	if !fhir.IsResourceType(typ) || !validID(id) {
		return "", "", false
	}
	return typ, id, true
}
