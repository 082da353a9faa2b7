package audit

import (
	"fmt"
	"math"
	"slices"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/audit/auditstore"
)

// badPredicate is a predicate the trail cannot answer, with the issue code
// and text for the OperationOutcome.
type badPredicate struct{ code, text string }

func (b *badPredicate) Error() string { return b.text }

func unsupported(format string, args ...any) error {
	return &badPredicate{code: fhir.CodeNotSupported, text: fmt.Sprintf(format, args...)}
}

// conditions turns the parsed clauses into one condition: clauses are
// ANDed, the predicates of a clause ORed.
func (t *Trail) conditions(q *search.Query) (auditstore.Cond, string, error) {
	var ands []auditstore.Cond
	for _, c := range q.Where {
		var ors []auditstore.Cond
		for i := range c.Any {
			w, err := t.predicate(&c.Any[i])
			if err != nil {
				return auditstore.None, c.Any[i].Param.Code, err
			}
			ors = append(ors, w)
		}
		ands = append(ands, auditstore.Or(ors...))
	}
	return auditstore.Simplify(auditstore.And(ands...)), "", nil
}

// predicate is the condition of one parameter value.
func (t *Trail) predicate(p *search.Predicate) (auditstore.Cond, error) {
	if p.Chain != nil || p.Has != nil || p.Param == nil {
		return auditstore.None, unsupported("chained and reverse-chained searches of AuditEvent are not supported")
	}
	code, mod := p.Param.Code, p.Modifier
	allowed := map[string]bool{"": true}
	switch p.Param.Type {
	case search.Token:
		allowed[":not"] = true
	case search.String:
		allowed[":exact"], allowed[":contains"] = true, true
	case search.Reference:
		allowed[":identifier"] = code == "agent" || code == whoParam
	}
	if !allowed[mod] {
		return auditstore.None, unsupported("the modifier %s is not supported on the AuditEvent parameter %s", mod, code)
	}
	v := &p.Value
	var w auditstore.Cond
	switch code {
	case "_id":
		w = t.idCondition(v)
	case "date", "_lastUpdated":
		w = dateCondition(v)
	case "agent", whoParam:
		w = agentCondition(v, mod, p.Param.Targets)
	case "patient":
		w = patientCondition(v)
	case "entity":
		w = entityCondition(v, p.Param.Targets)
	case "outcome":
		w = outcomeCondition(v)
	case "action":
		w = actionCondition(v)
	case "subtype":
		w = subtypeCondition(v)
	case "type":
		w = typeCondition(v)
	case "altid":
		w = altIDCondition(v)
	case "address":
		w = addressCondition(v, mod)
	default:
		return auditstore.None, unsupported("the AuditEvent parameter %s is not supported", code)
	}
	if mod == ":not" {
		w = auditstore.Not(w)
	}
	return w, nil
}

// system checks a token value's system against the one the trail writes:
// no system given, or that one.
func system(v *search.Value, want ...string) bool {
	if !v.HasSystem {
		return true
	}
	for _, s := range want {
		if v.System == s {
			return true
		}
	}
	return false
}

func (t *Trail) idCondition(v *search.Value) auditstore.Cond {
	key, ok := t.ids.key(v.Code)
	if !ok || (v.HasSystem && v.System != "") {
		return auditstore.None
	}
	return auditstore.Key(key)
}

// dateCondition compares recorded, an instant to the microsecond: the
// target range [t, t+1µs) against the value's range [lo, hi) by the R4
// prefix table.
func dateCondition(v *search.Value) auditstore.Cond {
	const field, first, last = auditstore.Recorded, math.MinInt64, math.MaxInt64
	lo, hi := v.Lo, v.Hi
	switch v.Prefix {
	case search.Ne:
		return auditstore.Not(auditstore.Range(field, lo, hi))
	case search.Gt, search.Sa:
		return auditstore.Range(field, hi, last)
	case search.Lt, search.Eb:
		return auditstore.Range(field, first, lo)
	case search.Ge:
		return auditstore.Range(field, lo, last)
	case search.Le:
		return auditstore.Range(field, first, hi)
	case search.Ap:
		lo, hi = v.ApLo, v.ApHi
	}
	return auditstore.Range(field, lo, hi)
}

// agentCondition matches the requesting user (fhirUser), or with
// :identifier the client application. A bare id matches it under any of
// the parameter's target types.
func agentCondition(v *search.Value, mod string, targets []string) auditstore.Cond {
	r := v.Ref
	if mod == ":identifier" {
		if r == nil || (r.HasSystem && r.System != "") {
			return auditstore.None
		}
		return auditstore.In(auditstore.Client, r.Code)
	}
	return auditstore.Refers(nil, candidates(r, targets))
}

// patientCondition matches events about the patient: the patient in
// context, a Patient resource touched, or a patient as the user.
func patientCondition(v *search.Value) auditstore.Cond {
	refs := candidates(v.Ref, []string{"Patient"})
	if len(refs) != 1 {
		return auditstore.None
	}
	return auditstore.Refers(refs, refs)
}

func entityCondition(v *search.Value, targets []string) auditstore.Cond {
	return auditstore.Refers(candidates(v.Ref, targets), nil)
}

// candidates are the stored spellings a reference value can match:
// Type/id, or id under each target type when no type was given; an
// absolute URL outside the server's base as written.
func candidates(r *search.RefValue, targets []string) []string {
	switch {
	case r == nil:
		return nil
	case r.URL != "":
		return []string{r.URL}
	case r.Type != "":
		return []string{r.Type + "/" + r.ID}
	}
	out := make([]string, 0, len(targets))
	for _, t := range targets {
		out = append(out, t+"/"+r.ID)
	}
	return out
}

// outcomeCondition: the outcome code derives from the HTTP status.
func outcomeCondition(v *search.Value) auditstore.Cond {
	if !system(v, systemOutcome) {
		return auditstore.None
	}
	const field = auditstore.Status
	switch v.Code {
	case "":
		return auditstore.All
	case "0":
		return auditstore.Range(field, math.MinInt64, 400)
	case "4":
		return auditstore.Range(field, 400, 500)
	case "8":
		return auditstore.Range(field, 500, math.MaxInt64)
	}
	return auditstore.None
}

// actionCondition: C, R, U and D are those interactions; E is everything
// else (searches, operations, bundles, authorization, unknown requests).
func actionCondition(v *search.Value) auditstore.Cond {
	if !system(v, systemAction) {
		return auditstore.None
	}
	if v.Code == "" {
		return auditstore.All
	}
	var in, notIn []string
	for a, x := range interactions {
		switch {
		case x.action == v.Code:
			in = append(in, a)
		case x.action != "E":
			notIn = append(notIn, a)
		}
	}
	slices.Sort(in) // the same query text each time
	slices.Sort(notIn)
	switch v.Code {
	case "E":
		return auditstore.Not(auditstore.In(auditstore.Action, notIn...))
	case "C", "R", "U", "D":
		return auditstore.In(auditstore.Action, in...)
	}
	return auditstore.None
}

func subtypeCondition(v *search.Value) auditstore.Cond {
	if isAuth(v.Code) && system(v, AuthStepSystem) {
		return auditstore.In(auditstore.Action, v.Code)
	}
	if v.Code == "" && v.HasSystem && v.System == AuthStepSystem {
		return auditstore.Prefix(auditstore.Action, authPrefix)
	}
	if !system(v, systemInteraction) {
		return auditstore.None
	}
	var in []string
	for a, x := range interactions {
		if x.subtype == v.Code || v.Code == "" {
			in = append(in, a)
		}
	}
	slices.Sort(in)
	return auditstore.In(auditstore.Action, in...)
}

func typeCondition(v *search.Value) auditstore.Cond {
	switch {
	case v.Code == typeRest && system(v, systemEventType):
		return auditstore.Not(auditstore.Prefix(auditstore.Action, authPrefix))
	case v.Code == typeAuth && system(v, systemDICOM):
		return auditstore.Prefix(auditstore.Action, authPrefix)
	}
	return auditstore.None
}

// authPrefix starts the action of every authorization step.
const authPrefix = "auth-"

// altIDCondition matches the token's subject, a plain string: a value
// with a system matches nothing.
func altIDCondition(v *search.Value) auditstore.Cond {
	if v.HasSystem && v.System != "" {
		return auditstore.None
	}
	return auditstore.In(auditstore.Subject, v.Code)
}

// addressCondition: string matching, case-insensitive from the start by
// default. It compares the value as written: the normalised text of
// string search splits on punctuation, which is all an address has.
func addressCondition(v *search.Value, mod string) auditstore.Cond {
	switch mod {
	case ":exact":
		return auditstore.In(auditstore.Source, v.Exact)
	case ":contains":
		return auditstore.Contains(auditstore.Source, v.Exact)
	}
	return auditstore.Prefix(auditstore.Source, v.Exact)
}
