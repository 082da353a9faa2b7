package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// restriction is what a search of one type adds to its query to stay
// within the caller's permit.
type restriction struct {
	patient string          // only Patient/patient's compartment
	where   []search.Clause // and resources matching these clauses
	// params is where as search parameters, for searches the store does
	// not run (the audit trail).
	params url.Values
}

// restrictionFor chooses the restriction of a search under p. The caller
// gets the union of its scopes when one query can say it: the rules share
// their patient (or none has one), and either one of them has no
// constraint, all have the same one, or each is one value of the same
// single parameter (which a query ORs). Otherwise the search must stay
// inside one rule by itself: its parameters include that rule's
// constraint, or it is a search of that rule's patient's compartment.
// Any other search is refused with the constraints it could add.
func (p permit) restrictionFor(params url.Values, q *search.Query) (restriction, Response, bool) {
	if p.open {
		return restriction{}, Response{}, true
	}
	var live []rule
	for _, r := range p.rules {
		if r.broken == "" {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return restriction{}, fail(http.StatusForbidden, fhir.CodeForbidden,
			fmt.Sprintf("no scope of this token can be applied to a search of %s: %s", p.typ, p.describe())), false
	}
	if r, ok := union(live); ok {
		return r, Response{}, true
	}
	for _, r := range live {
		if len(r.scope.Criteria) > 0 && includesAll(params, r.scope.Criteria) {
			return restriction{patient: r.patient, where: r.where, params: r.scope.Criteria}, Response{}, true
		}
	}
	if q != nil && q.Compartment != nil && q.Compartment.Type == "Patient" {
		for _, r := range live {
			if r.patient == q.Compartment.ID && len(r.where) == 0 {
				return restriction{patient: r.patient}, Response{}, true
			}
		}
	}
	var ways []string
	for _, r := range live {
		switch {
		case len(r.scope.Criteria) > 0:
			ways = append(ways, r.scope.Criteria.Encode())
		case r.patient != "":
			ways = append(ways, fmt.Sprintf("search Patient/%s/%s", r.patient, p.typ))
		}
	}
	return restriction{}, fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
		"this token's scopes for searching %s (%s) cannot be combined in one search; narrow the search to one of them (%s)",
		p.typ, p.describe(), strings.Join(ways, "; "))), false
}

// union is the restriction that allows exactly what any of the rules
// allows, when one query can express it.
func union(rules []rule) (restriction, bool) {
	patient := rules[0].patient
	for _, r := range rules {
		if r.patient != patient {
			return restriction{}, false
		}
	}
	for _, r := range rules {
		if len(r.where) == 0 {
			return restriction{patient: patient}, true
		}
	}
	first := rules[0]
	same := true
	for _, r := range rules[1:] {
		same = same && r.scope.Criteria.Encode() == first.scope.Criteria.Encode()
	}
	if same {
		return restriction{patient: patient, where: first.where, params: first.scope.Criteria}, true
	}
	// One value each of the same single parameter: one clause ORs them.
	key := ""
	var any []search.Predicate
	var values []string
	for _, r := range rules {
		if len(r.scope.Criteria) != 1 || len(r.where) != 1 {
			return restriction{}, false
		}
		for k, vs := range r.scope.Criteria {
			if (key != "" && k != key) || len(vs) != 1 {
				return restriction{}, false
			}
			key = k
			values = append(values, vs[0])
		}
		any = append(any, r.where[0].Any...)
	}
	return restriction{patient: patient, where: []search.Clause{{Any: any}},
		params: url.Values{key: {strings.Join(values, ",")}}}, true
}

// includesAll reports whether the request's parameters include every
// value of the constraint, so that the search cannot reach beyond it.
func includesAll(params, constraint url.Values) bool {
	for k, vs := range constraint {
		for _, v := range vs {
			if !slices.Contains(params[k], v) {
				return false
			}
		}
	}
	return true
}

// confineSearch keeps a parsed search of one type (a type search, a
// compartment search, a conditional interaction's match) within the
// caller's permit p: chains and _has may only test types the caller may
// search, and the chosen restriction is added to the query.
func (s *Service) confineSearch(ctx context.Context, p permit, q *search.Query, params url.Values) (Response, bool) {
	if access.FromContext(ctx) == nil {
		return Response{}, true
	}
	if r, ok := s.chainsAllowed(ctx, q.Where); !ok {
		return r, false
	}
	res, r, ok := p.restrictionFor(params, q)
	if !ok {
		return r, false
	}
	if _, member := fhir.CompartmentParams("Patient", q.Type); res.patient != "" && !member {
		// A Binary is the patient's through its securityContext, which no
		// search parameter indexes.
		return fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
			"%s cannot be searched within Patient/%s's compartment; read it by id", q.Type, res.patient)), false
	}
	return s.applyRestriction(q, res)
}

// applyRestriction adds res to q: the compartment (as the query's own
// compartment when it has none, else as one more clause) and the clauses.
func (s *Service) applyRestriction(q *search.Query, res restriction) (Response, bool) {
	if res.patient != "" {
		c := q.Compartment
		switch {
		case c == nil:
			q.Compartment = patientCompartment(q.Type, res.patient)
		case c.Type == "Patient" && c.ID == res.patient && c.ByType == nil && !c.AnyOwner:
			// Already a search of that patient's compartment.
		default:
			clause, err := s.compartmentClause(q.Type, res.patient)
			if err != nil {
				return s.internalError(context.Background(), "search restriction", err), false
			}
			q.Where = append(q.Where, clause)
		}
	}
	q.Where = append(q.Where, res.where...)
	return Response{}, true
}

// patientCompartment is the compartment of Patient/pid for a search of
// typ; the Patient is a member of its own compartment.
func patientCompartment(typ, pid string) *search.Compartment {
	links, _ := fhir.CompartmentParams("Patient", typ)
	if typ == "Patient" {
		return &search.Compartment{Type: "Patient", ID: pid, ByType: map[string][]string{"Patient": links}, WithOwner: true}
	}
	return &search.Compartment{Type: "Patient", ID: pid, Params: links}
}

// compartmentClause is membership of Patient/pid's compartment as one
// clause (a reference to it through any compartment parameter of typ, or
// being it), for a query that already has a compartment of its own.
func (s *Service) compartmentClause(typ, pid string) (search.Clause, error) {
	links, _ := fhir.CompartmentParams("Patient", typ)
	var tests []url.Values
	for _, l := range links {
		tests = append(tests, url.Values{l: {"Patient/" + pid}})
	}
	if typ == "Patient" {
		tests = append(tests, url.Values{"_id": {pid}})
	}
	var c search.Clause
	for _, t := range tests {
		q, o := search.Parse(s.registry, typ, t, s.parseOptions(true, 1, 1))
		if o.HasErrors() || len(q.Where) != 1 {
			return c, fmt.Errorf("compartment parameter %v of %s does not parse", t, typ)
		}
		c.Any = append(c.Any, q.Where[0].Any...)
	}
	if len(c.Any) == 0 {
		return c, fmt.Errorf("%s has no Patient compartment parameters", typ)
	}
	return c, nil
}

// chainsAllowed refuses chained parameters and _has that test resources
// the caller may not search without limits. A chain tests every resource
// of its target type, and the query model cannot confine those to the
// caller's compartment or constraint: a chain through a confined type
// could tell, one bit at a time, something about a resource outside it.
// So a confined caller searches its resources directly instead.
func (s *Service) chainsAllowed(ctx context.Context, where []search.Clause) (Response, bool) {
	for _, c := range where {
		for _, p := range c.Any {
			if r, ok := s.predicateAllowed(ctx, p); !ok {
				return r, false
			}
		}
	}
	return Response{}, true
}

func (s *Service) predicateAllowed(ctx context.Context, p search.Predicate) (Response, bool) {
	switch {
	case p.Chain != nil:
		targets := []string{p.Chain.Type}
		if p.Chain.Type == "" && p.Param != nil {
			targets = p.Param.Targets
		}
		for _, t := range targets {
			if r, ok := s.testedTypeAllowed(ctx, t, "the chained parameter "+p.Param.Code); !ok {
				if p.Chain.Type == "" {
					r = fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf("%s; or name a target type (%s:Type.) this token may search",
						r.Outcome.Issue[0].Diagnostics, p.Param.Code))
				}
				return r, false
			}
		}
		return s.predicateAllowed(ctx, p.Chain.Next)
	case p.Has != nil:
		if r, ok := s.testedTypeAllowed(ctx, p.Has.Type, "_has"); !ok {
			return r, false
		}
		return s.predicateAllowed(ctx, p.Has.Next)
	}
	return Response{}, true
}

// testedTypeAllowed lets a chain or _has (what) test resources of typ
// only when the caller may search all of them.
func (s *Service) testedTypeAllowed(ctx context.Context, typ, what string) (Response, bool) {
	p, _, ok := s.permitFor(ctx, typ, access.Search)
	switch {
	case !ok:
		return fail(http.StatusForbidden, fhir.CodeForbidden,
			fmt.Sprintf("%s tests %s resources, which this token may not search", what, typ)), false
	case !p.open:
		return fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
			"%s tests %s resources, which this token may search only within %s; a chain cannot keep to that, so search them directly",
			what, typ, p.describe())), false
	}
	return Response{}, true
}

// confineSystemSearch keeps a search across types (GET [base]?_type=...)
// within the grant: only the types the caller may search, and all of them
// openly or all confined to the same patient without constraints (one
// query cannot mix them; the caller is asked to narrow _type).
func (s *Service) confineSystemSearch(ctx context.Context, q *search.Query) (Response, bool) {
	g := access.FromContext(ctx)
	if g == nil {
		return Response{}, true
	}
	if r, ok := s.chainsAllowed(ctx, q.Where); !ok {
		return r, false
	}
	named := len(q.Types) > 0
	types := q.Types
	if !named {
		if openWildcard(g, access.Search) {
			return Response{}, true
		}
		types = searchableTypes(g)
	}
	var kept []string
	var open, confined []string
	for _, t := range types {
		p, r, ok := s.permitFor(ctx, t, access.Search)
		if !ok {
			if named {
				return r, false
			}
			continue
		}
		kept = append(kept, t)
		switch res, _, ok := p.restrictionFor(nil, nil); {
		case p.open:
			open = append(open, t)
		case ok && len(res.where) == 0 && res.patient == g.Patient:
			confined = append(confined, t)
		default:
			return fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
				"this token's scopes for searching %s (%s) constrain it in a way a search across types cannot apply; search %s on its own",
				t, p.describe(), t)), false
		}
	}
	switch {
	case len(kept) == 0:
		return fail(http.StatusForbidden, fhir.CodeForbidden, "this token has no scope allowing search of any resource type"), false
	case len(confined) > 0 && len(open) > 0:
		return fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
			"this token may search %s openly but %s only in Patient/%s's compartment, which one search cannot combine; narrow _type to one kind",
			strings.Join(open, ","), strings.Join(confined, ","), g.Patient)), false
	}
	slices.Sort(kept)
	q.Types = kept
	if len(confined) > 0 {
		byType := map[string][]string{}
		for _, t := range confined {
			links, _ := fhir.CompartmentParams("Patient", t)
			byType[t] = links
		}
		q.Compartment = &search.Compartment{Type: "Patient", ID: g.Patient, ByType: byType, WithOwner: slices.Contains(confined, "Patient")}
	}
	return Response{}, true
}

// openWildcard reports whether a "*" scope lets the grant do op on every
// type without limits.
func openWildcard(g *access.Grant, op access.Op) bool {
	for _, sc := range g.Scopes.Resource {
		if sc.Type == "*" && sc.Allows(op) && sc.Context != access.PatientContext && len(sc.Criteria) == 0 {
			return true
		}
	}
	return false
}

// searchableTypes lists the types the grant's scopes may search: those
// named, and for a patient/* scope every type of the Patient compartment.
func searchableTypes(g *access.Grant) []string {
	var out []string
	for _, sc := range g.Scopes.Resource {
		switch {
		case !sc.Allows(access.Search):
		case sc.Type != "*":
			out = append(out, sc.Type)
		case sc.Context == access.PatientContext:
			out = append(out, fhir.CompartmentTypes("Patient")...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// visibleIncluded keeps the included resources (_include, _revinclude,
// $everything's references) the caller may read: what a search brings
// along is shown only where a read of it would be.
func (s *Service) visibleIncluded(ctx context.Context, vs []store.Version) ([]store.Version, error) {
	if access.FromContext(ctx) == nil || len(vs) == 0 {
		return vs, nil
	}
	permits := map[string]*permit{} // nil: the type may not be read
	out := make([]store.Version, 0, len(vs))
	for i := range vs {
		v := &vs[i]
		p, seen := permits[v.Type]
		if !seen {
			if pp, _, ok := s.permitFor(ctx, v.Type, access.Read); ok {
				p = &pp
			}
			permits[v.Type] = p
		}
		if p == nil {
			continue
		}
		ok, err := s.admits(ctx, *p, versionSubject(v), nil)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, *v)
		}
	}
	return out, nil
}

// compartmentMemberAllowed decides whether a search of a whole compartment
// (GET Patient/[id]/*) covers member type t. A type the caller may not
// search is left out, or refused when _type named it. A type whose permit
// would need its own restriction cannot share the cross-type query: it is
// left out, with a warning saying how to search it, unless it is confined
// to exactly this compartment.
func (s *Service) compartmentMemberAllowed(ctx context.Context, ctype, id, t string, named bool) (warning string, deny Response, ok bool) {
	p, r, ok := s.permitFor(ctx, t, access.Search)
	if !ok {
		if named {
			return "", r, false
		}
		return "", Response{}, false
	}
	if p.open {
		return "", Response{}, true
	}
	res, _, ok := p.restrictionFor(nil, nil)
	if ok && ctype == "Patient" && res.patient == id && len(res.where) == 0 {
		return "", Response{}, true
	}
	if ok && res.patient != "" && len(res.where) == 0 {
		return "", Response{}, false // another patient's compartment: nothing here is the caller's
	}
	return fmt.Sprintf("%s is left out: this token's scopes constrain it (%s); search %s/%s/%s on its own", t, p.describe(), ctype, id, t), Response{}, false
}
