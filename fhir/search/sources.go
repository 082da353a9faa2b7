package search

import (
	"slices"
	"strings"
	"sync"
)

// String parameters often repeat each other's values: Patient.name indexes
// every family and given name that family and given index again, and
// phonetic (R4's expression is Patient.name, like name's) indexes exactly
// name's values. A store may keep such a value once, under the narrower
// parameter, and search the wider one over both: Sources says which
// parameters a search on a string parameter must cover, and which of its
// entries may be left out of the index.

// Sources describes where a string parameter's values are stored.
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
	typ, code string
}

// StringSources returns the Sources of the string parameter code of typ;
// for other parameters, or ones that repeat no other, Params is just code.
func (r *Registry) StringSources(typ, code string) Sources {
	key := sourcesKey{r, typ, code}
	if v, ok := sourcesCache.Load(key); ok {
		return v.(Sources)
	}
	s := r.stringSources(typ, code)
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

// StringSourcesAnyType is StringSources for a search over several types:
// the parameters any type's search on code must cover.
func (r *Registry) StringSourcesAnyType(code string) []string {
	key := sourcesKey{r, "*", code} // no type is named "*"
	if v, ok := sourcesCache.Load(key); ok {
		return v.(Sources).Params
	}
	out := []string{code}
	for typ := range r.sorted {
		s := r.StringSources(typ, code)
		for _, p := range s.Params {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out[1:])
	sourcesCache.Store(key, Sources{Params: out})
	return out
}
