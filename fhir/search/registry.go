package search

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpath"
)

// Registry answers which search parameters a resource type has, with their
// expressions compiled once. It is immutable after NewRegistry and safe for
// concurrent use.
type Registry struct {
	params []Param                      // the registry's own copy; pointers below point into it
	byType map[string]map[string]*Param // type -> code -> param, common ones included
	sorted map[string][]*Param          // type -> params sorted by code
	byURL  map[string]*Param
	exprs  map[*Param]paramExprs
	typed  sync.Map // typedKey -> *fhirpath.Expr (ExprFor)
	// readsMeta caches ReadsMeta: *Param -> bool.
	readsMeta sync.Map
	// plans holds each type's typePlan, filled on first use.
	plans map[string]*typePlan
	err   error
}

// typePlan is what indexing and storing a resource of one type asks of
// the registry, worked out once per type: looked up per resource and per
// parameter, it was a measurable share of an indexed write.
type typePlan struct {
	once sync.Once
	// params are the type's parameters that extract values, by code, and
	// exprs their ExprFor expressions.
	params []*Param
	exprs  []*fhirpath.Expr
	// sources holds the Sources of the string, token and composite
	// parameters whose values may be stored under another (an alias's, or
	// a wider one's).
	sources map[string]Sources
}

// plan returns typ's typePlan, nil for a type the registry does not know.
func (r *Registry) plan(typ string) *typePlan {
	tp := r.plans[typ]
	if tp == nil {
		return nil
	}
	tp.once.Do(func() {
		for _, p := range r.sorted[typ] {
			if p.Type == Special || p.Expression == "" {
				continue
			}
			if e := r.ExprFor(p, typ); e != nil {
				tp.params = append(tp.params, p)
				tp.exprs = append(tp.exprs, e)
			}
			if p.Type != String && p.Type != Token && p.Type != Composite {
				continue
			}
			if s := r.Sources(typ, p.Code); s.Alias || len(s.Params) > 1 {
				if tp.sources == nil {
					tp.sources = map[string]Sources{}
				}
				tp.sources[p.Code] = s
			}
		}
	})
	return tp
}

// SourcesFor returns the Sources of typ's string, token and composite parameters
// whose values may be stored under another parameter (an alias's, or a
// wider parameter's that a narrower one holds too), by code; parameters
// it does not list store all their values. The map is shared: read only.
func (r *Registry) SourcesFor(typ string) map[string]Sources {
	if tp := r.plan(typ); tp != nil {
		return tp.sources
	}
	return nil
}

type typedKey struct {
	p   *Param
	typ string
}

// paramExprs holds a parameter's expression and its components'.
type paramExprs struct {
	expr  *fhirpath.Expr
	parts []*fhirpath.Expr
}

// NewRegistry indexes params by type, code and URL, and compiles their
// expressions. A parameter with base Resource applies to every type, one
// with base DomainResource to every type but Binary, Bundle and
// Parameters; a type-specific parameter overrides a common one with the
// same code, and among parameters of the same kind the later one wins, so
// a caller can append its own to override the spec's. An expression that
// fails to compile leaves that parameter unindexed (Expr returns nil) and
// is reported by Err.
func NewRegistry(params []Param) *Registry {
	r := &Registry{
		params: append([]Param(nil), params...),
		byType: map[string]map[string]*Param{},
		sorted: map[string][]*Param{},
		byURL:  map[string]*Param{},
		exprs:  map[*Param]paramExprs{},
		plans:  map[string]*typePlan{},
	}
	var errs []error
	common := map[string]*Param{} // base Resource
	domain := map[string]*Param{} // base DomainResource
	specific := map[string]map[string]*Param{}
	for i := range r.params {
		p := &r.params[i]
		r.byURL[p.URL] = p
		c, err := compileParam(p)
		if err != nil {
			errs = append(errs, err)
		}
		r.exprs[p] = c
		for _, b := range p.Base {
			switch b {
			case "Resource":
				common[p.Code] = p
			case "DomainResource":
				domain[p.Code] = p
			default:
				if specific[b] == nil {
					specific[b] = map[string]*Param{}
				}
				specific[b][p.Code] = p
			}
		}
	}
	r.err = errors.Join(errs...)

	// "Resource" and "DomainResource" list the common parameters, for
	// system searches.
	types := append(fhir.ResourceTypes(), "Resource", "DomainResource")
	for b := range specific { // a custom parameter's base may be a type R4 lacks
		if !fhir.IsResourceType(b) {
			types = append(types, b)
		}
	}
	for _, t := range types {
		m := make(map[string]*Param, len(common)+len(domain)+len(specific[t]))
		for code, p := range common {
			m[code] = p
		}
		if t != "Resource" && appliesDomainResource(t) {
			for code, p := range domain {
				m[code] = p
			}
		}
		for code, p := range specific[t] {
			m[code] = p
		}
		r.byType[t] = m
		r.sorted[t] = sortedByCode(m)
		r.plans[t] = &typePlan{}
	}
	return r
}

func compileParam(p *Param) (paramExprs, error) {
	var c paramExprs
	if p.Expression != "" {
		e, err := fhirpath.Compile(p.Expression)
		if err != nil {
			return paramExprs{}, fmt.Errorf("search parameter %s: %w", p.URL, err)
		}
		c.expr = e
	}
	for _, comp := range p.Components {
		e, err := fhirpath.Compile(comp.Expression)
		if err != nil {
			return paramExprs{}, fmt.Errorf("search parameter %s component %s: %w", p.URL, comp.Definition, err)
		}
		c.parts = append(c.parts, e)
	}
	return c, nil
}

func appliesDomainResource(t string) bool {
	switch t {
	case "Binary", "Bundle", "Parameters":
		return false
	}
	return true
}

func sortedByCode(m map[string]*Param) []*Param {
	out := make([]*Param, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Default is the registry of the R4 search parameters, built on first use.
func Default() *Registry { return defaultRegistry() }

var defaultRegistry = sync.OnceValue(func() *Registry { return NewRegistry(generatedParams) })

// Err reports the expressions NewRegistry could not compile, or nil.
func (r *Registry) Err() error { return r.err }

// Lookup finds the parameter code of resourceType. The pseudo-types
// "Resource" and "DomainResource" have the parameters of those bases.
func (r *Registry) Lookup(resourceType, code string) (*Param, bool) {
	if m, ok := r.byType[resourceType]; ok {
		p, ok := m[code]
		return p, ok
	}
	return nil, false
}

// ForType lists the parameters of resourceType sorted by code, the common
// ones (_id, _lastUpdated, ...) included. The slice is the caller's.
func (r *Registry) ForType(resourceType string) []*Param {
	return append([]*Param(nil), r.sorted[resourceType]...)
}

// ByURL finds a parameter by canonical URL, as composite components name
// theirs.
func (r *Registry) ByURL(url string) (*Param, bool) {
	p, ok := r.byURL[url]
	return p, ok
}

// Expr is p's paramExprs expression, nil when p has none (or it did not
// compile). p should come from this registry; another Param is matched by
// URL and expression, and paramExprs afresh only when that fails.
func (r *Registry) Expr(p *Param) *fhirpath.Expr {
	return r.compiledFor(p).expr
}

// ReadsMeta reports whether p's values can depend on a resource's meta:
// its expression, or a component's, names meta or walks a node's children
// (children, descendants, repeat). Names are matched as text, so it errs
// towards yes.
func (r *Registry) ReadsMeta(p *Param) bool {
	if v, ok := r.readsMeta.Load(p); ok {
		return v.(bool)
	}
	reads := false
	texts := []string{p.Expression}
	for _, c := range p.Components {
		texts = append(texts, c.Expression)
	}
	for _, t := range texts {
		for _, w := range []string{"meta", "children(", "descendants(", "repeat("} {
			reads = reads || strings.Contains(t, w)
		}
	}
	r.readsMeta.Store(p, reads)
	return reads
}

// ExprFor is Expr specialised for evaluating on resources of type typ
// (fhirpath.Expr.ForType): what an indexer runs.
func (r *Registry) ExprFor(p *Param, typ string) *fhirpath.Expr {
	key := typedKey{p, typ}
	if e, ok := r.typed.Load(key); ok {
		return e.(*fhirpath.Expr)
	}
	e := r.Expr(p)
	if e == nil {
		return nil
	}
	e = e.ForType(typ)
	r.typed.Store(key, e)
	return e
}

// ComponentExpr is the paramExprs expression of p's component i (relative to
// the composite's value, for fhirpath.Expr.EvalFrom), nil when out of
// range.
func (r *Registry) ComponentExpr(p *Param, i int) *fhirpath.Expr {
	parts := r.compiledFor(p).parts
	if i < 0 || i >= len(parts) {
		return nil
	}
	return parts[i]
}

func (r *Registry) compiledFor(p *Param) paramExprs {
	if p == nil {
		return paramExprs{}
	}
	if c, ok := r.exprs[p]; ok {
		return c
	}
	if own, ok := r.byURL[p.URL]; ok && sameExpressions(own, p) {
		return r.exprs[own]
	}
	c, _ := compileParam(p)
	return c
}

func sameExpressions(a, b *Param) bool {
	if a.Expression != b.Expression || len(a.Components) != len(b.Components) {
		return false
	}
	for i := range a.Components {
		if a.Components[i].Expression != b.Components[i].Expression {
			return false
		}
	}
	return true
}
