package audit

import (
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
)

// where is a SQL condition on the event table (alias e) and its arguments.
type where struct {
	sql  string
	args []any
}

// never and always are conditions for values that can match nothing (an
// id this database never issued, an outcome code it never writes) or
// anything.
var (
	never  = where{sql: "0"}
	always = where{sql: "1"}
)

// badPredicate is a predicate the trail cannot answer, with the issue code
// and text for the OperationOutcome.
type badPredicate struct{ code, text string }

func (b *badPredicate) Error() string { return b.text }

func unsupported(format string, args ...any) error {
	return &badPredicate{code: fhir.CodeNotSupported, text: fmt.Sprintf(format, args...)}
}

// conditions turns the parsed clauses into one SQL condition: clauses are
// ANDed, the predicates of a clause ORed.
func (t *Trail) conditions(q *search.Query) (where, string, error) {
	var ands []string
	var args []any
	for _, c := range q.Where {
		var ors []string
		for i := range c.Any {
			w, err := t.predicate(&c.Any[i])
			if err != nil {
				return where{}, c.Any[i].Param.Code, err
			}
			ors = append(ors, w.sql)
			args = append(args, w.args...)
		}
		ands = append(ands, "("+strings.Join(ors, " OR ")+")")
	}
	if len(ands) == 0 {
		return always, "", nil
	}
	return where{sql: strings.Join(ands, " AND "), args: args}, "", nil
}

// predicate is the condition of one parameter value.
func (t *Trail) predicate(p *search.Predicate) (where, error) {
	if p.Chain != nil || p.Has != nil || p.Param == nil {
		return where{}, unsupported("chained and reverse-chained searches of AuditEvent are not supported")
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
		return where{}, unsupported("the modifier %s is not supported on the AuditEvent parameter %s", mod, code)
	}
	v := &p.Value
	var w where
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
		return where{}, unsupported("the AuditEvent parameter %s is not supported", code)
	}
	if mod == ":not" {
		w.sql = "NOT (" + w.sql + ")"
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

func (t *Trail) idCondition(v *search.Value) where {
	seq, ok := t.ids.seq(v.Code)
	if !ok || (v.HasSystem && v.System != "") {
		return never
	}
	return where{sql: "e.seq = ?", args: []any{seq}}
}

// dateCondition compares recorded, an instant to the microsecond: the
// target range [t, t+1µs) against the value's range [lo, hi) by the R4
// prefix table.
func dateCondition(v *search.Value) where {
	lo, hi := v.Lo, v.Hi
	switch v.Prefix {
	case search.Ne:
		return where{sql: "(e.recorded < ? OR e.recorded >= ?)", args: []any{lo, hi}}
	case search.Gt, search.Sa:
		return where{sql: "e.recorded >= ?", args: []any{hi}}
	case search.Lt, search.Eb:
		return where{sql: "e.recorded < ?", args: []any{lo}}
	case search.Ge:
		return where{sql: "e.recorded >= ?", args: []any{lo}}
	case search.Le:
		return where{sql: "e.recorded < ?", args: []any{hi}}
	case search.Ap:
		lo, hi = v.ApLo, v.ApHi
	}
	return where{sql: "(e.recorded >= ? AND e.recorded < ?)", args: []any{lo, hi}}
}

// agentCondition matches the requesting user (fhirUser), or with
// :identifier the client application. A bare id matches it under any of
// the parameter's target types.
func agentCondition(v *search.Value, mod string, targets []string) where {
	r := v.Ref
	if mod == ":identifier" {
		if r == nil || (r.HasSystem && r.System != "") {
			return never
		}
		return where{sql: "e.client = ?", args: []any{r.Code}}
	}
	refs := candidates(r, targets)
	if len(refs) == 0 {
		return never
	}
	return indexed(keys("w ", refs), "who IN ("+placeholders(len(refs))+")", refs)
}

// patientCondition matches events about the patient: the patient in
// context, a Patient resource touched, or a patient as the user.
func patientCondition(v *search.Value) where {
	refs := candidates(v.Ref, []string{"Patient"})
	if len(refs) != 1 {
		return never
	}
	ref := refs[0].(string)
	return indexed([]any{"e " + ref, "w " + ref}, "(instr(entities, ?) > 0 OR patient = ? OR who = ?)",
		[]any{`"` + ref + `"`, strings.TrimPrefix(ref, "Patient/"), ref})
}

func entityCondition(v *search.Value, targets []string) where {
	refs := candidates(v.Ref, targets)
	if len(refs) == 0 {
		return never
	}
	var tail []string
	var args []any
	for _, ref := range refs {
		tail = append(tail, "instr(entities, ?) > 0")
		args = append(args, `"`+ref.(string)+`"`)
		if p, ok := strings.CutPrefix(ref.(string), "Patient/"); ok { // the patient in context is an entity too
			tail = append(tail, "patient = ?")
			args = append(args, p)
		}
	}
	return indexed(keys("e ", refs), "("+strings.Join(tail, " OR ")+")", args)
}

// indexed matches the events whose ix rows have one of keys, and among
// the events not folded into ix yet those that satisfy tail.
func indexed(keys []any, tail string, tailArgs []any) where {
	return where{
		sql: "e.seq IN (SELECT seq FROM ix WHERE key IN (" + placeholders(len(keys)) + ")" +
			" UNION ALL SELECT seq FROM event WHERE seq > " + folded + " AND " + tail + ")",
		args: append(keys, tailArgs...),
	}
}

func keys(prefix string, refs []any) []any {
	out := make([]any, len(refs))
	for i, r := range refs {
		out[i] = prefix + r.(string)
	}
	return out
}

// candidates are the stored spellings a reference value can match:
// Type/id, or id under each target type when no type was given; an
// absolute URL outside the server's base as written.
func candidates(r *search.RefValue, targets []string) []any {
	switch {
	case r == nil:
		return nil
	case r.URL != "":
		return []any{r.URL}
	case r.Type != "":
		return []any{r.Type + "/" + r.ID}
	}
	out := make([]any, 0, len(targets))
	for _, t := range targets {
		out = append(out, t+"/"+r.ID)
	}
	return out
}

// outcomeCondition: the outcome code derives from the HTTP status.
func outcomeCondition(v *search.Value) where {
	if !system(v, systemOutcome) {
		return never
	}
	switch v.Code {
	case "":
		return always
	case "0":
		return where{sql: "e.status < 400"}
	case "4":
		return where{sql: "(e.status >= 400 AND e.status < 500)"}
	case "8":
		return where{sql: "e.status >= 500"}
	}
	return never
}

// actionCondition: C, R, U and D are those interactions; E is everything
// else (searches, operations, bundles, authorization, unknown requests).
func actionCondition(v *search.Value) where {
	if !system(v, systemAction) {
		return never
	}
	if v.Code == "" {
		return always
	}
	var in, notIn []any
	for a, x := range interactions {
		switch {
		case x.action == v.Code:
			in = append(in, a)
		case x.action != "E":
			notIn = append(notIn, a)
		}
	}
	switch v.Code {
	case "E":
		return where{sql: "e.action NOT IN (" + placeholders(len(notIn)) + ")", args: notIn}
	case "C", "R", "U", "D":
		return where{sql: "e.action IN (" + placeholders(len(in)) + ")", args: in}
	}
	return never
}

func subtypeCondition(v *search.Value) where {
	if isAuth(v.Code) && system(v, AuthStepSystem) {
		return where{sql: "e.action = ?", args: []any{v.Code}}
	}
	if v.Code == "" && v.HasSystem && v.System == AuthStepSystem {
		return where{sql: "e.action LIKE 'auth-%'"}
	}
	if !system(v, systemInteraction) {
		return never
	}
	var in []any
	for a, x := range interactions {
		if x.subtype == v.Code || v.Code == "" {
			in = append(in, a)
		}
	}
	if len(in) == 0 {
		return never
	}
	return where{sql: "e.action IN (" + placeholders(len(in)) + ")", args: in}
}

func typeCondition(v *search.Value) where {
	switch {
	case v.Code == typeRest && system(v, systemEventType):
		return where{sql: "e.action NOT LIKE 'auth-%'"}
	case v.Code == typeAuth && system(v, systemDICOM):
		return where{sql: "e.action LIKE 'auth-%'"}
	}
	return never
}

// altIDCondition matches the token's subject, a plain string: a value
// with a system matches nothing.
func altIDCondition(v *search.Value) where {
	if v.HasSystem && v.System != "" {
		return never
	}
	return where{sql: "e.subject = ?", args: []any{v.Code}}
}

// addressCondition: string matching, case-insensitive from the start by
// default (LIKE is, for the ASCII of addresses). It compares the value as
// written: the normalised text of string search splits on punctuation,
// which is all an address has.
func addressCondition(v *search.Value, mod string) where {
	switch mod {
	case ":exact":
		return where{sql: "e.source = ?", args: []any{v.Exact}}
	case ":contains":
		return where{sql: `e.source LIKE ? ESCAPE '\'`, args: []any{"%" + escapeLike(v.Exact) + "%"}}
	}
	return where{sql: `e.source LIKE ? ESCAPE '\'`, args: []any{escapeLike(v.Exact) + "%"}}
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
