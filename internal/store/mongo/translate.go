package mongo

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// translator turns a search.Query into a node. Chains, _has and _list need
// other resources first: it runs those searches as it goes (graph.go).
type translator struct {
	s   *Store
	ctx context.Context
}

// unsupported is the error for what this backend does not translate.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: mongo: %s", store.ErrNotSupported, fmt.Sprintf(format, args...))
}

// query is q's conditions on a live resource document.
func (t *translator) query(q *search.Query) (node, error) {
	all := and{eq(topField("del"), false)}
	switch {
	case q.Type != "":
		all = append(all, eq(topField("type"), q.Type))
	case len(q.Types) > 0:
		all = append(all, in(topField("type"), q.Types))
	}
	if c := q.Compartment; c != nil {
		n, err := t.compartment(q, c)
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	for _, cl := range q.Where {
		n, err := t.clause(cl, q.Type)
		if err != nil {
			return nil, err
		}
		all = append(all, n)
	}
	return all, nil
}

func (t *translator) clause(cl search.Clause, typ string) (node, error) {
	alts := make(or, 0, len(cl.Any))
	for _, p := range cl.Any {
		n, err := t.predicate(p, typ)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

// predicate is one test on a resource of typ ("" when the type varies: a
// system search, an untyped chain's targets).
func (t *translator) predicate(p search.Predicate, typ string) (node, error) {
	switch {
	case p.Has != nil:
		return t.has(p.Has, typ)
	case p.Chain != nil:
		return t.chain(p, typ)
	case p.Param == nil:
		return nil, fmt.Errorf("mongo: a predicate without a parameter")
	case p.Param.Code == "_list" && p.Param.Type == search.Special:
		return t.list(p.Value)
	case p.Missing != nil:
		return missing(p.Param, typ, *p.Missing), nil
	}
	if p.Modifier == ":not" {
		plain := p
		plain.Modifier = ""
		n, err := valueNode(plain, typ)
		if err != nil {
			return nil, err
		}
		if v, ok := n.(verify); ok {
			// The superset of a negation is not the negation of a
			// superset: send nothing, decide every candidate here.
			return verify{superset: always, exact: nor{v.exact}, pred: p, field: v.field, composite: v.composite}, nil
		}
		return nor{n}, nil
	}
	return valueNode(p, typ)
}

// missing is :missing: no value of the parameter (for a string, in any of
// the parameters its values are kept under).
func missing(prm *search.Param, typ string, isMissing bool) node {
	present := overSources(prm, typ, func(code string) node { return exists(param(code)) })
	if isMissing {
		return nor{present}
	}
	return present
}

// overSources is one(code) for each parameter a string parameter's
// values are stored under (search.Sources), any of them matching; the
// parameter itself for other types. Across types (typ empty) each type's
// sources count for its own resources only (search.SourcesAcrossTypes).
func overSources(prm *search.Param, typ string, one func(code string) node) node {
	reg := search.Default()
	var codes []string
	switch {
	case prm.Type != search.String:
		return one(prm.Code)
	case typ != "":
		codes = reg.StringSources(typ, prm.Code).Params
	default:
		alts := or{one(prm.Code)}
		for _, g := range reg.SourcesAcrossTypes(search.String, prm.Code) {
			var own or
			for _, code := range g.Params {
				own = append(own, one(code))
			}
			alts = append(alts, and{in(topField("type"), g.Types), own})
		}
		return alts
	}
	if len(codes) == 1 {
		return one(codes[0])
	}
	var alts or
	for _, code := range codes {
		alts = append(alts, one(code))
	}
	return alts
}

// valueNode compares a value, without :not.
func valueNode(p search.Predicate, typ string) (node, error) {
	v, code := p.Value, p.Param.Code
	switch p.Param.Type {
	case search.Token:
		return tokenNode(code, p.Modifier, v)
	case search.String:
		return stringNode(p.Param, typ, p.Modifier, v)
	case search.Date:
		if p.Modifier != "" {
			break
		}
		n, twoFields := rangeNode(code, v.Prefix, v.Lo, v.Hi, v.ApLo, v.ApHi)
		return maybeVerify(p, n, twoFields), nil
	case search.Number, search.Quantity:
		if p.Modifier != "" {
			break
		}
		n, twoFields := numberNode(code, v)
		if p.Param.Type == search.Quantity {
			var unit node
			switch {
			case v.System != "":
				unit = eq(values(code, clUnitSC), joinKey(v.System, v.Code))
			case v.Code != "":
				unit = eq(values(code, clUnit), v.Code)
			}
			if unit != nil {
				n, twoFields = and{n, unit}, true
			}
		}
		return maybeVerify(p, n, twoFields), nil
	case search.Reference:
		return referenceNode(code, p.Modifier, v.Ref)
	case search.URI:
		return uriNode(code, p.Modifier, v.URI)
	case search.Composite:
		if p.Modifier != "" {
			break
		}
		return compositeNode(p)
	case search.Special:
		return nil, unsupported("the special parameter %s is not supported", code)
	}
	if p.Modifier != "" {
		return nil, unsupported("modifier %s is not supported on %s parameter %s", p.Modifier, p.Param.Type, code)
	}
	return nil, unsupported("search on a %s parameter (%s) is not supported", p.Param.Type, code)
}

func maybeVerify(p search.Predicate, n node, twoFields bool) node {
	if !twoFields {
		return n
	}
	return verify{superset: n, exact: n, pred: p, field: fieldName(p.Param.Code)}
}

func tokenNode(code, mod string, v search.Value) (node, error) {
	switch mod {
	case ":text":
		return matches(values(code, clText), "^"+regexp.QuoteMeta(v.Text)), nil
	case ":of-type":
		if v.TypeSystem == "" && v.TypeCode == "" {
			return nil, unsupported(":of-type on %s without an identifier type", code)
		}
		return eq(values(code, clOfType), joinKey(v.TypeSystem, v.TypeCode, v.Code)), nil
	case "":
	default:
		return nil, unsupported("token modifier %s is not supported (%s)", mod, code)
	}
	switch {
	case !v.HasSystem:
		return eq(values(code, clCode), v.Code), nil
	case v.Code == "":
		return eq(values(code, clSystem), v.System), nil
	}
	return eq(values(code, clSysCode), joinKey(v.System, v.Code)), nil
}

// stringNode matches a string over every parameter its values are kept
// under: starts with (normalised), :contains, :exact.
func stringNode(prm *search.Param, typ, mod string, v search.Value) (node, error) {
	var one func(code string) node
	switch mod {
	case "":
		one = func(code string) node { return matches(values(code, clNorm), "^"+regexp.QuoteMeta(v.Text)) }
	case ":contains":
		one = func(code string) node { return matches(values(code, clNorm), regexp.QuoteMeta(v.Text)) }
	case ":exact":
		one = func(code string) node { return eq(values(code, clExact), v.Exact) }
	default:
		return nil, unsupported("string modifier %s is not supported (%s)", mod, prm.Code)
	}
	return overSources(prm, typ, one), nil
}

// rangeNode compares the search range [lo, hi) (ap: [apLo, apHi)) with
// each value's range, per the R4 prefix table (search.MatchEntries). Most
// prefixes test one end of a value, or either end: exact on the per-end
// arrays. eq and ap test both ends of one value, which the arrays answer
// exactly only for a resource with one value: twoFields says so.
func rangeNode[T int64 | float64](code string, prefix search.Prefix, lo, hi, apLo, apHi T) (node, bool) {
	L, H := values(code, clLo), values(code, clHi)
	switch prefix {
	case search.Eq, "":
		return and{cmpOp(L, "$gte", lo), cmpOp(H, "$lte", hi)}, true
	case search.Ne:
		return or{cmpOp(L, "$lt", lo), cmpOp(H, "$gt", hi)}, false
	case search.Gt:
		return cmpOp(H, "$gt", hi), false
	case search.Lt:
		return cmpOp(L, "$lt", lo), false
	case search.Ge:
		return or{cmpOp(L, "$gte", lo), cmpOp(H, "$gt", hi)}, false
	case search.Le:
		return or{cmpOp(L, "$lt", lo), cmpOp(H, "$lte", hi)}, false
	case search.Sa:
		return cmpOp(L, "$gte", hi), false
	case search.Eb:
		return cmpOp(H, "$lte", lo), false
	case search.Ap:
		return and{cmpOp(L, "$lt", apHi), cmpOp(H, "$gt", apLo)}, true
	}
	return never, false
}

// numberNode: gt, lt, ge and le compare the exact value; the other
// prefixes compare ranges at the written precision (search.matchNumber).
func numberNode(code string, v search.Value) (node, bool) {
	ops := map[search.Prefix]string{search.Gt: "$gt", search.Lt: "$lt", search.Ge: "$gte", search.Le: "$lte"}
	if op, ok := ops[v.Prefix]; ok {
		return cmpOp(values(code, clNum), op, v.Num), false
	}
	return rangeNode(code, v.Prefix, v.NumLo, v.NumHi, v.ApNumLo, v.ApNumHi)
}

func referenceNode(code, mod string, r *search.RefValue) (node, error) {
	if r == nil {
		return nil, fmt.Errorf("mongo: reference predicate on %s without a value", code)
	}
	switch mod {
	case ":identifier":
		switch {
		case r.Code == "" && (r.System != "" || r.HasSystem):
			return eq(values(code, clIDSystem), r.System), nil
		case r.System != "" || r.HasSystem:
			return eq(values(code, clIDSysCode), joinKey(r.System, r.Code)), nil
		}
		return eq(values(code, clIDCode), r.Code), nil
	case "":
	default:
		return nil, unsupported("reference modifier %s is not supported (%s)", mod, code)
	}
	switch {
	case r.URL != "" && r.Version != "":
		return eq(values(code, clURLVer), joinKey(r.URL, r.Version)), nil
	case r.URL != "":
		return eq(values(code, clURL), r.URL), nil
	case r.ID != "" && r.Type != "":
		return eq(values(code, clRef), r.Type+"/"+r.ID), nil
	case r.ID != "":
		// A bare id: any type, or a relative canonical indexed as written.
		return or{eq(values(code, clRefID), r.ID), eq(values(code, clURL), r.ID)}, nil
	}
	return nil, fmt.Errorf("mongo: empty reference value for %s", code)
}

func uriNode(code, mod, uri string) (node, error) {
	at := values(code, clURL)
	switch mod {
	case "":
		return eq(at, uri), nil
	case ":below":
		return matches(at, "^"+regexp.QuoteMeta(uri)), nil
	case ":above":
		// The stored uri is a prefix of the value: one of its prefixes.
		var prefixes []string
		for i := 1; i <= len(uri); i++ {
			prefixes = append(prefixes, uri[:i])
		}
		return in(at, slices.Compact(prefixes)), nil
	}
	return nil, unsupported("uri modifier %s is not supported (%s)", mod, code)
}

// compositeNode: the parts must match one composite entry. The server
// narrows to resources with the parameter (and the first part's code);
// the entries decide.
func compositeNode(p search.Predicate) (node, error) {
	parts := p.Value.Parts
	if len(parts) == 0 {
		return nil, fmt.Errorf("mongo: composite value of %s without parts", p.Param.Code)
	}
	for _, part := range parts {
		switch part.Kind {
		case search.Token, search.String, search.Date, search.Number, search.Quantity, search.Reference, search.URI:
		default:
			return nil, unsupported("composite %s: a %s part cannot be searched", p.Param.Code, part.Kind)
		}
	}
	var superset node = exists(param(p.Param.Code))
	if parts[0].Kind == search.Token && parts[0].Code != "" {
		superset = eq(values(p.Param.Code, clPart0), parts[0].Code)
	}
	return verify{superset: superset, exact: superset, pred: p, field: fieldName(p.Param.Code), composite: true}, nil
}
