package subscription

import (
	"slices"

	"github.com/telederm/telederm/fhir/search"
)

// matchIndex finds the subscriptions a change may match without testing
// every one: each subscription is filed under the values of its most
// selective clause that equality decides (a token code, a reference id, a
// URI), e.g. (ServiceRequest, patient, r:123); the rest are filed by
// resource type alone. A change then looks up its own token, reference
// and URI entries, so the cost grows with the change's entries and the
// subscriptions that could match, not with all subscriptions.
type matchIndex struct {
	byKey  map[indexKey][]*indexed
	byType map[string][]*indexed
	byID   map[string]*indexed
	// perType counts the subscriptions on each type: a change of a type
	// no one watches is not even indexed.
	perType map[string]int
	gen     uint64
}

// indexKey is a (type, parameter, value) the index files under; kind
// tells token codes ('t'), local reference ids ('r') and URLs ('u') apart.
type indexKey struct {
	typ, param string
	kind       byte
	value      string
}

// indexValue is a value without its type and parameter.
type indexValue struct {
	kind  byte
	value string
}

// indexed is one live subscription in the index.
type indexed struct {
	spec *Spec
	keys []indexKey // empty: filed by type
	mark uint64     // the lookup that last collected it
}

func newMatchIndex() *matchIndex {
	return &matchIndex{byKey: map[indexKey][]*indexed{}, byType: map[string][]*indexed{}, byID: map[string]*indexed{}, perType: map[string]int{}}
}

// put files spec, replacing what was filed under its id.
func (x *matchIndex) put(spec *Spec) {
	x.remove(spec.ID)
	in := &indexed{spec: spec, keys: x.keysOf(spec.Query)}
	x.byID[spec.ID] = in
	x.perType[spec.Query.Type]++
	if len(in.keys) == 0 {
		x.byType[spec.Query.Type] = append(x.byType[spec.Query.Type], in)
		return
	}
	for _, k := range in.keys {
		x.byKey[k] = append(x.byKey[k], in)
	}
}

// remove unfiles a subscription; unknown ids are ignored.
func (x *matchIndex) remove(id string) {
	in := x.byID[id]
	if in == nil {
		return
	}
	delete(x.byID, id)
	if x.perType[in.spec.Query.Type]--; x.perType[in.spec.Query.Type] == 0 {
		delete(x.perType, in.spec.Query.Type)
	}
	drop := func(list []*indexed) []*indexed {
		return slices.DeleteFunc(list, func(e *indexed) bool { return e == in })
	}
	if len(in.keys) == 0 {
		typ := in.spec.Query.Type
		if x.byType[typ] = drop(x.byType[typ]); len(x.byType[typ]) == 0 {
			delete(x.byType, typ)
		}
		return
	}
	for _, k := range in.keys {
		if x.byKey[k] = drop(x.byKey[k]); len(x.byKey[k]) == 0 {
			delete(x.byKey, k)
		}
	}
}

// size is the number of subscriptions filed.
func (x *matchIndex) size() int { return len(x.byID) }

// watches reports whether any subscription is on typ.
func (x *matchIndex) watches(typ string) bool { return x.perType[typ] > 0 }

// candidates appends to dst, once each, the subscriptions on typ that a
// resource with entries es may match: those filed by type, and those
// filed under a value es has.
func (x *matchIndex) candidates(typ string, es []search.Entry, dst []*indexed) []*indexed {
	x.gen++
	collect := func(list []*indexed) {
		for _, in := range list {
			if in.mark != x.gen {
				in.mark = x.gen
				dst = append(dst, in)
			}
		}
	}
	collect(x.byType[typ])
	if len(x.byKey) == 0 {
		return dst
	}
	var buf [2]indexValue
	for i := range es {
		e := &es[i]
		for _, v := range entryValues(e, &buf) {
			if list, ok := x.byKey[indexKey{typ, e.Param, v.kind, v.value}]; ok {
				collect(list)
			}
		}
	}
	return dst
}

// keysOf picks the clause to file a query under: among those whose every
// predicate is an equality the index can look up, the one whose values
// have the fewest subscriptions filed under them already (then the one
// with fewest values). A low-cardinality clause (category=laboratory)
// shared by many subscriptions is so passed over for a selective one
// (code, patient) as soon as a second subscription uses it. None: the
// query is filed by type.
func (x *matchIndex) keysOf(q query) []indexKey {
	var best []indexKey
	bestLoad := 0
	for _, c := range q.Where {
		var keys []indexKey
		ok := len(c.Any) > 0
		for _, p := range c.Any {
			vs := predicateValues(p)
			if len(vs) == 0 {
				ok = false
				break
			}
			for _, v := range vs {
				keys = append(keys, indexKey{q.Type, p.Param.Code, v.kind, v.value})
			}
		}
		if !ok {
			continue
		}
		load := 0
		for _, k := range keys {
			load += len(x.byKey[k])
		}
		if best == nil || load < bestLoad || load == bestLoad && len(keys) < len(best) {
			best, bestLoad = keys, load
		}
	}
	return best
}

// predicateValues are the index values a predicate's matches must have
// (one of them); none when it is not a plain equality.
func predicateValues(p search.Predicate) []indexValue {
	if p.Param == nil || p.Chain != nil || p.Has != nil || p.Missing != nil || p.Modifier != "" {
		return nil
	}
	kind := p.Value.Kind
	if kind == "" {
		kind = p.Param.Type
	}
	switch kind {
	case search.Token:
		if p.Value.Code != "" {
			return []indexValue{{'t', p.Value.Code}}
		}
	case search.Reference:
		r := p.Value.Ref
		switch {
		case r == nil:
		case r.URL != "":
			return []indexValue{{'u', r.URL}}
		case r.ID != "" && r.Type != "":
			return []indexValue{{'r', r.ID}}
		case r.ID != "":
			// A bare id also matches a relative canonical written as it.
			return []indexValue{{'r', r.ID}, {'u', r.ID}}
		}
	case search.URI:
		if p.Value.URI != "" {
			return []indexValue{{'u', p.Value.URI}}
		}
	}
	return nil
}

// entryValues are the index values an entry answers to, in buf.
func entryValues(e *search.Entry, buf *[2]indexValue) []indexValue {
	n := 0
	switch e.Kind {
	case search.Token:
		if e.Code != "" {
			buf[n] = indexValue{'t', e.Code}
			n++
		}
	case search.Reference:
		if e.RefID != "" {
			buf[n] = indexValue{'r', e.RefID}
			n++
		}
		if e.URL != "" {
			buf[n] = indexValue{'u', e.URL}
			n++
		}
	case search.URI:
		if e.URL != "" {
			buf[n] = indexValue{'u', e.URL}
			n++
		}
	}
	return buf[:n]
}
