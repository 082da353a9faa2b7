package rest

// How SMART scopes govern the interactions (the grant comes from the
// context; none means authorization is off and everything is allowed):
//
//   - Letters: read, vread, instance history and $meta of one resource
//     need r; type, system and compartment searches, type and system
//     history and $everything need s; create c; update and patch u (also
//     an update that creates, plain or conditional: SMART's scope table
//     lets the update scope create); delete d. Conditional interactions also need s: their match is a search.
//     $validate needs c or u, the meta in use across a type an
//     unconstrained s. No applicable scope: 403, naming the scope needed.
//   - Patient confinement: a patient/ scope reaches the Patient in
//     context and its compartment (R4 CompartmentDefinition, so also a
//     Patient that links to it), and a Binary whose securityContext is in
//     it. Other types (Practitioner, Organization, Medication ...) are 403
//     for patient/ scopes: SMART lets a server decline "related
//     resources", and a user/ or system/ scope reaches them.
//   - Reads of a resource outside the caller's scopes answer 404, exactly
//     as for one that does not exist. Writes whose target or new version
//     lies outside answer 403 and write nothing; a caller who names
//     another patient's id in an update or delete may so learn that the id
//     is in use (a write to a free id would succeed), never what it holds.
//   - Searches carry the restriction in the query (compartment, granular
//     clauses), so paging and totals stay right; _include and _revinclude
//     results, $everything's references and history versions are screened
//     one by one. Chains and _has may test only types the caller may
//     search without limits: the query cannot confine the resources they
//     test.
//   - Several scopes add up. A search gets their union when one query can
//     say it, else it must itself stay inside one scope (carry its
//     constraint, or search that patient's compartment) or get a 403 that
//     says how to narrow it.
//   - AuditEvent is written by the server only: every client write is 405.
//   - An AccessPolicy (Config) may narrow user/ scopes further on some
//     types; its constraint is ANDed to each user/ scope's own, so it is
//     enforced exactly like a granular scope everywhere above.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
)

// permit is what the caller's grant allows for one interaction letter on
// one resource type. Every interaction asks for its permit before it
// touches data; a grant with no applicable scope gets 403 instead.
//
// SMART scopes add up: a resource is allowed when any one applicable scope
// allows it. A scope either reaches every resource of the type (user/ and
// system/ without a constraint: the permit is open) or is limited by the
// patient in context (patient/) and by its granular constraint
// (?category=laboratory), which is what rules record.
type permit struct {
	typ   string
	op    access.Op
	open  bool   // every resource of typ: nothing else to check
	rules []rule // when not open: the resource must satisfy one of them
}

// rule is one applicable scope as a test on a resource.
type rule struct {
	scope access.Scope
	// patient confines the scope to Patient/patient's compartment; empty
	// for user/ and system/ scopes.
	patient string
	// where is the scope's constraint parsed for the permit's type (the
	// clauses all hold); nil when the scope has none.
	where []search.Clause
	// broken marks a constraint that is not a valid search of the type: it
	// allows nothing (failing closed), and says why.
	broken string
}

// permitFor returns the caller's permit for op on typ, or the 403 that
// refuses it.
func (s *Service) permitFor(ctx context.Context, typ string, op access.Op) (permit, Response, bool) {
	g := access.FromContext(ctx)
	if g == nil { // authorization off: everything is allowed
		return permit{typ: typ, op: op, open: true}, Response{}, true
	}
	p := permit{typ: typ, op: op}
	applicable := g.Applicable(typ, op)
	why := noScope
	for _, sc := range applicable {
		r := rule{scope: sc}
		if sc.Context == access.PatientContext {
			switch {
			case g.Patient == "":
				why = noPatient // a patient/ scope without a patient reaches no one
				continue
			case !patientReachable(typ):
				why = notInCompartment
				continue
			}
			r.patient = g.Patient
		}
		if sc.Context == access.UserContext && s.cfg.AccessPolicy != nil {
			sc = narrowed(sc, s.cfg.AccessPolicy.Narrowing(ctx, g, typ))
			r.scope = sc
		}
		if len(sc.Criteria) > 0 {
			r.where, r.broken = s.parseConstraint(typ, sc.Criteria)
		}
		if r.patient == "" && len(sc.Criteria) == 0 {
			return permit{typ: typ, op: op, open: true}, Response{}, true
		}
		p.rules = append(p.rules, r)
	}
	if len(p.rules) == 0 {
		return p, denied(typ, op, why, g.Patient), false
	}
	return p, Response{}, true
}

// narrowed is sc with the access policy's extra constraint ANDed to its
// own (a copy: grants are shared).
func narrowed(sc access.Scope, extra url.Values) access.Scope {
	if len(extra) == 0 {
		return sc
	}
	c := url.Values{}
	for k, v := range sc.Criteria {
		c[k] = append([]string(nil), v...)
	}
	for k, v := range extra {
		c[k] = append(c[k], v...)
	}
	sc.Criteria = c
	return sc
}

// patientReachable reports whether patient/ scopes can reach resources of
// typ: the types of the Patient compartment, and Binary through its
// securityContext. Practitioner, Organization, Medication and the other
// types outside the compartment are not: SMART leaves access to such
// related resources to the server ("some EHRs may not enable access to
// all related resources"), and this one asks for a user/ or system/ scope.
func patientReachable(typ string) bool {
	_, member := fhir.CompartmentParams("Patient", typ)
	return member || typ == "Binary"
}

// Why a grant's applicable scopes did not give a permit.
const (
	noScope          = iota // none applies
	noPatient               // patient/ scopes apply, but no patient is in context
	notInCompartment        // patient/ scopes apply, but typ is outside the compartment
)

// parseConstraint reads a scope's granular constraint as a search of typ.
// A constraint that is not one (an unknown parameter, a bad value, only
// result parameters such as _count) makes the scope allow nothing.
func (s *Service) parseConstraint(typ string, criteria url.Values) ([]search.Clause, string) {
	q, o := search.Parse(s.registry, typ, criteria, s.parseOptions(true, 1, 1))
	if o.HasErrors() {
		return nil, fmt.Sprintf("its constraint %q is not a valid search of %s", criteria.Encode(), typ)
	}
	if len(q.Where) == 0 || len(q.Include)+len(q.RevInclude)+len(q.Sort) > 0 {
		return nil, fmt.Sprintf("its constraint %q does not restrict %s by search parameters", criteria.Encode(), typ)
	}
	return q.Where, ""
}

// opNames are the interactions each scope letter allows, for messages.
var opNames = map[access.Op]string{
	access.Create: "create", access.Read: "read", access.Update: "update",
	access.Delete: "delete", access.Search: "search",
}

// denied is the 403 for a request outside every scope: it names the
// scopes that would allow it.
func denied(typ string, op access.Op, why int, patient string) Response {
	letter := string(rune(op))
	var msg string
	switch why {
	case noPatient:
		msg = fmt.Sprintf("this token's patient/ scopes for %s of %s need a patient in context, and it has none", opNames[op], typ)
	case notInCompartment:
		msg = fmt.Sprintf("this token's patient/ scopes reach only Patient/%s's compartment, and %s is not in it (%s of %s needs user/%s.%s or system/%s.%s)",
			patient, typ, opNames[op], typ, typ, letter, typ, letter)
	default:
		msg = fmt.Sprintf("this token has no scope allowing %s of %s (needs patient/%s.%s, user/%s.%s or system/%s.%s",
			opNames[op], typ, typ, letter, typ, letter, typ, letter)
		if typ == access.AuditType {
			msg += "; a * scope does not reach the audit trail)"
		} else {
			msg += ", or the same with *)"
		}
	}
	return fail(http.StatusForbidden, fhir.CodeForbidden, msg)
}

// outside is the 403 for a write whose target, or the version written,
// lies outside the caller's scopes.
func (p permit) outside(ref string) Response {
	return fail(http.StatusForbidden, fhir.CodeForbidden,
		fmt.Sprintf("this token may %s %s only within %s; %s is outside them", opNames[p.op], p.typ, p.describe(), ref))
}

// describe lists the permit's rules for messages: each scope with what
// confines it.
func (p permit) describe() string {
	parts := make([]string, len(p.rules))
	for i, r := range p.rules {
		parts[i] = r.scope.String()
		switch {
		case r.broken != "":
			parts[i] += " (" + r.broken + ")"
		case r.patient != "":
			parts[i] += " (Patient/" + r.patient + "'s compartment)"
		}
	}
	return strings.Join(parts, ", ")
}

// auditWriteRefused is the answer to any write of an AuditEvent: only the
// server writes the audit trail.
func auditWriteRefused() Response {
	return fail(http.StatusMethodNotAllowed, fhir.CodeNotSupported, "the audit trail is written by the server and cannot be changed")
}
