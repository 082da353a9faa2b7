package search

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/telederm/telederm/fhir"
)

// String parameters often repeat each other's values: Patient.name indexes
// every family and given name that family and given index again, and
// phonetic (R4's expression is Patient.name, like name's) indexes exactly
// name's values. A store may keep such a value once, under the narrower
// parameter, and search the wider one over both: Sources says which
// parameters a search on a string parameter must cover, and which of its
// entries may be left out of the index.

// Sources describes where a string or token parameter's values are stored.
type Sources struct {
	// Params are the parameters whose stored entries together hold every
	// value of the parameter: itself first (unless Alias), then the
	// narrower ones. A search on the parameter matches any of them.
	Params []string
	// Alias is set when the parameter's values are exactly another's
	// (Params[0]): none of its own entries need storing.
	Alias bool
}

// narrowChildren are the string-bearing children of the complex types a
// string parameter indexes whole, as the indexer reads them (string.go):
// a parameter on "X.name.family" holds a subset of one on "X.name".
var narrowChildren = map[string][]string{
	"name":    {"family", "given", "prefix", "suffix", "text"},
	"address": {"line", "city", "district", "state", "postalCode", "country", "text"},
}

var sourcesCache sync.Map // key sourcesKey -> Sources

type sourcesKey struct {
	r         *Registry
	kind      Type
	typ, code string
}

// StringSources returns the Sources of the string parameter code of typ;
// for other parameters, or ones that repeat no other, Params is just code.
func (r *Registry) StringSources(typ, code string) Sources {
	return r.cachedSources(String, typ, code, r.stringSources)
}

// cachedSources is compute(typ, code), computed once per registry.
func (r *Registry) cachedSources(kind Type, typ, code string, compute func(typ, code string) Sources) Sources {
	key := sourcesKey{r, kind, typ, code}
	if v, ok := sourcesCache.Load(key); ok {
		return v.(Sources)
	}
	s := compute(typ, code)
	sourcesCache.Store(key, s)
	return s
}

func (r *Registry) stringSources(typ, code string) Sources {
	own := Sources{Params: []string{code}}
	p, ok := r.Lookup(typ, code)
	if !ok || p.Type != String || p.Expression == "" {
		return own
	}
	pb := branches(p.Expression, typ)
	if len(pb) == 0 {
		return own
	}
	// An alias: another string parameter of the type with the same
	// branches, the first by code keeping the entries.
	for _, q := range r.ForType(typ) {
		if q.Code == code || q.Type != String || q.Code > code {
			continue
		}
		if slices.Equal(branches(q.Expression, typ), pb) {
			base := r.stringSources(typ, q.Code)
			return Sources{Params: base.Params, Alias: true}
		}
	}
	for _, q := range r.ForType(typ) {
		if q.Code == code || q.Type != String {
			continue
		}
		if qb := branches(q.Expression, typ); len(qb) > 0 && narrower(qb, pb) {
			own.Params = append(own.Params, q.Code)
		}
	}
	return own
}

// branches are the union members of expr that start at typ, sorted.
func branches(expr, typ string) []string {
	var out []string
	for _, b := range strings.Split(expr, "|") {
		b = strings.TrimSpace(b)
		if strings.HasPrefix(b, typ+".") && !strings.ContainsAny(b, "()[] ") {
			out = append(out, b)
		} else if strings.HasPrefix(b, typ+".") {
			return nil // a function or filter: not compared
		}
	}
	slices.Sort(out)
	return out
}

// narrower reports whether every branch of q is a branch of p followed by
// one string-bearing child of the complex type that branch ends at.
func narrower(q, p []string) bool {
	for _, qb := range q {
		parent, child, ok := cutLast(qb)
		if !ok || !slices.Contains(p, parent) {
			return false
		}
		_, elem, _ := cutLast(parent)
		if !slices.Contains(narrowChildren[elem], child) {
			return false
		}
	}
	return true
}

func cutLast(path string) (string, string, bool) {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return "", path, false
	}
	return path[:i], path[i+1:], true
}

// TypeSources is one group of SourcesAcrossTypes: resources of Types keep
// values of the searched parameter under Params too.
type TypeSources struct {
	Types  []string
	Params []string
}

var acrossCache sync.Map // sourcesKey (typ "") -> []TypeSources

// SourcesAcrossTypes is Sources for a search over several types, exactly:
// a search on the kind parameter code matches any resource's entries of
// code itself, and a resource's entries of a group's Params when its type
// is among the group's Types. A union of every type's Sources would also
// match Organization's own name entries for phonetic, which
// Organization does not leave to name (Patient does). Groups are sorted
// by their Params.
func (r *Registry) SourcesAcrossTypes(kind Type, code string) []TypeSources {
	key := sourcesKey{r, kind, "", code}
	if v, ok := acrossCache.Load(key); ok {
		return v.([]TypeSources)
	}
	byParams := map[string]*TypeSources{}
	for _, typ := range slices.Sorted(maps.Keys(r.sorted)) {
		if p, ok := r.Lookup(typ, code); !ok || p.Type != kind {
			continue
		}
		others := slices.DeleteFunc(slices.Clone(r.Sources(typ, code).Params), func(c string) bool { return c == code })
		if len(others) == 0 {
			continue
		}
		k := strings.Join(others, ",")
		if byParams[k] == nil {
			byParams[k] = &TypeSources{Params: others}
		}
		byParams[k].Types = append(byParams[k].Types, typ)
	}
	out := make([]TypeSources, 0, len(byParams))
	for _, k := range slices.Sorted(maps.Keys(byParams)) {
		out = append(out, *byParams[k])
	}
	acrossCache.Store(key, out)
	return out
}

// Sources returns where the values of typ's parameter code are stored:
// StringSources for a string parameter, TokenSources for a token one (and
// by the same rule for a composite one with the same components), the
// parameter alone for any other.
func (r *Registry) Sources(typ, code string) Sources {
	if p, ok := r.Lookup(typ, code); ok && (p.Type == Token || p.Type == Composite) {
		return r.cachedSources(p.Type, typ, code, r.branchSources)
	}
	return r.StringSources(typ, code)
}

// Token parameters repeat each other too: Observation's combo-code holds
// every value of code and of component-code, and Patient's telecom every
// value of phone and email. TokenSources says so for a token parameter,
// as StringSources does for a string one, with a token's notion of
// narrower: each of the narrower parameter's branches is one of the
// wider's, or one of them filtered by where() (Patient.telecom.where(
// system='phone')). Token indexing reads only the node (index_token.go),
// so the same node gives the same entry under either parameter.
//
// Params is closed under narrower (a narrower parameter's own narrower
// ones are listed too): a store may leave a value to the narrowest
// parameter holding it, and a search must still reach it.

// TokenSources returns the Sources of the token parameter code of typ;
// for other parameters, or ones that repeat no other, Params is just code.
func (r *Registry) TokenSources(typ, code string) Sources {
	if p, ok := r.Lookup(typ, code); !ok || p.Type != Token {
		return Sources{Params: []string{code}}
	}
	return r.Sources(typ, code)
}

// branchSources is TokenSources for a token or composite parameter; a
// composite parameter relates only to those with the same components
// (each selected by the same expression, of the same type), whose parts
// are then the same entries.
func (r *Registry) branchSources(typ, code string) Sources {
	own := Sources{Params: []string{code}}
	p, ok := r.Lookup(typ, code)
	if !ok || p.Type != Token && p.Type != Composite {
		return own
	}
	pb := rootedBranches(p.Expression, typ)
	if len(pb) == 0 {
		return own
	}
	related := func(q *Param) bool {
		return q.Code != code && q.Type == p.Type && r.sameComponents(p, q)
	}
	// An alias: another such parameter of the type with the same
	// branches, the first by code keeping the entries.
	for _, q := range r.ForType(typ) {
		if q.Code < code && related(q) && slices.Equal(rootedBranches(q.Expression, typ), pb) {
			return Sources{Params: r.Sources(typ, q.Code).Params, Alias: true}
		}
	}
	for _, q := range r.ForType(typ) {
		if !related(q) {
			continue
		}
		qb := rootedBranches(q.Expression, typ)
		if len(qb) == 0 || !narrowerBranches(qb, pb) {
			continue
		}
		qs := r.Sources(typ, q.Code)
		if qs.Alias {
			continue // its base is narrower too, and holds the values
		}
		for _, c := range qs.Params {
			if !slices.Contains(own.Params, c) {
				own.Params = append(own.Params, c)
			}
		}
	}
	slices.Sort(own.Params[1:])
	return own
}

// sameComponents reports whether composite parameters p and q have the
// same components: each selected by the same expression and defined by
// a parameter of the same type. Other parameters have none.
func (r *Registry) sameComponents(p, q *Param) bool {
	if len(p.Components) != len(q.Components) {
		return false
	}
	for i, pc := range p.Components {
		qc := q.Components[i]
		pd, ok1 := r.ByURL(pc.Definition)
		qd, ok2 := r.ByURL(qc.Definition)
		if pc.Expression != qc.Expression || !ok1 || !ok2 || pd.Type != qd.Type {
			return false
		}
	}
	return true
}

// rootedBranches are the union members of expr rooted at typ ("Patient.
// telecom", "(Observation.value as CodeableConcept)"), sorted; nil when a
// member starts with anything but a resource type's name, which the
// comparison cannot place.
func rootedBranches(expr, typ string) []string {
	var out []string
	for _, b := range splitUnion(expr) {
		name, _, _ := strings.Cut(strings.TrimLeft(b, "("), ".")
		switch {
		case name == typ:
			out = append(out, b)
		case !fhir.IsResourceType(name):
			return nil
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// splitUnion splits expr at its top-level '|' operators (outside
// parentheses and string literals), trimming each member.
func splitUnion(expr string) []string {
	var out []string
	start := 0
	for i := 0; i < len(expr); i++ {
		switch expr[i] {
		case '(', '\'':
			i = skipGroup(expr, i) - 1
		case '|':
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(expr[start:]))
}

// skipGroup returns the index just after the parenthesised group or
// string literal that opens at s[i], or len(s) when it does not close.
func skipGroup(s string, i int) int {
	if s[i] == '\'' {
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '\'':
				return j + 1
			}
		}
		return len(s)
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '(', '\'':
			j = skipGroup(s, j) - 1
		case ')':
			return j + 1
		}
	}
	return len(s)
}

// narrowerBranches reports whether q's branches select a subset of p's
// nodes without being p's: each is one of p's, or one of p's followed by
// a single where() filter.
func narrowerBranches(q, p []string) bool {
	if slices.Equal(q, p) {
		return false
	}
	for _, b := range q {
		if !slices.Contains(p, b) && !slices.ContainsFunc(p, func(a string) bool { return isWhereOf(b, a) }) {
			return false
		}
	}
	return true
}

// isWhereOf reports whether b is a followed by ".where(...)" and nothing
// else.
func isWhereOf(b, a string) bool {
	rest, ok := strings.CutPrefix(b, a+".where")
	return ok && strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") && skipGroup(rest, 0) == len(rest)
}
