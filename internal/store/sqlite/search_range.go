package sqlite

import (
	"strings"

	"github.com/telederm/telederm/fhir/search"
)

// A two-sided range (date=ge2025-03-05&date=lt2025-03-07) is two clauses on
// one parameter. Answered one by one, each clause selects a large share of
// the index (everything after March 5, everything before March 7) and the
// intersection is found late; that made such searches slow on a large
// store. By the spec the clauses are independent: with several values, one
// value may meet the first and another the second. So the group is answered
// as (one entry meeting every clause, found by one index range scan)
// united with (resources with several values of the parameter, marked multi
// at write time, tested clause by clause), which is the same set, fast.

// rangeGroups splits q.Where into groups of two or more single-predicate
// clauses on the same date, number or quantity parameter, and the rest.
func rangeGroups(q *search.Query) (groups [][]search.Predicate, rest []search.Clause) {
	if q.Type == "" {
		return nil, q.Where
	}
	byParam := map[string][]int{}
	for i, cl := range q.Where {
		if p, ok := rangePredicate(cl); ok {
			byParam[p.Param.Code] = append(byParam[p.Param.Code], i)
		}
	}
	grouped := map[int]bool{}
	for _, cl := range q.Where { // in query order, for stable SQL
		p, ok := rangePredicate(cl)
		if !ok {
			continue
		}
		idx := byParam[p.Param.Code]
		if len(idx) < 2 || grouped[idx[0]] {
			continue
		}
		var g []search.Predicate
		for _, i := range idx {
			g = append(g, q.Where[i].Any[0])
			grouped[i] = true
		}
		groups = append(groups, g)
	}
	for i, cl := range q.Where {
		if !grouped[i] {
			rest = append(rest, cl)
		}
	}
	return groups, rest
}

func rangePredicate(cl search.Clause) (search.Predicate, bool) {
	if len(cl.Any) != 1 {
		return search.Predicate{}, false
	}
	p := cl.Any[0]
	if p.Param == nil || p.Chain != nil || p.Has != nil || p.Missing != nil || modifier(p) != "" {
		return p, false
	}
	switch p.Param.Type {
	case search.Date, search.Number, search.Quantity:
		return p, p.Value.Prefix != search.Ne
	}
	return p, false
}

// rangeGroup renders one group of clauses on the same parameter.
func (b *sqlBuilder) rangeGroup(g []search.Predicate, r, typ string) (string, error) {
	table, _ := tableOf(g[0].Param.Type)
	code := g[0].Param.Code
	var sb strings.Builder
	sb.WriteString(r + ".rid IN (SELECT rid FROM " + table + " WHERE type = " + b.arg(typ) + " AND param = " + b.arg(code))
	if g[0].Param.Type == search.Date {
		sb.WriteString(b.loBounds(g, typ, code))
	}
	for _, p := range g {
		c, err := b.valueCond(p)
		if err != nil {
			return "", err
		}
		sb.WriteString(" AND (" + c + ")")
	}
	sb.WriteString(" UNION SELECT m.rid FROM " + table + " m WHERE m.type = " + b.arg(typ) + " AND m.param = " + b.arg(code) + " AND m.multi = 1")
	for _, p := range g {
		// Unqualified columns resolve to x, the innermost table.
		sb.WriteString(" AND EXISTS (SELECT 1 FROM " + table + " x WHERE " + rowsOf("x", "m.rid") + " AND x.type = m.type AND x.param = m.param AND ")
		c, err := b.valueCond(p)
		if err != nil {
			return "", err
		}
		sb.WriteString(c + ")")
	}
	sb.WriteString(")")
	return sb.String(), nil
}

// loBounds adds conditions on lo that the group's clauses imply for one
// entry meeting all of them, so SQLite scans only the slice of the (type,
// param, lo) index between them. An entry that ends after H starts after
// H - W, where W is the parameter's widest entry (idx_date_span); the
// bounds are implied, never stricter than the clauses themselves.
func (b *sqlBuilder) loBounds(g []search.Predicate, typ, code string) string {
	// minusSpan is x - W, or the lowest int64 when W is saturated (an open
	// or extreme period), where the difference would not be a bound.
	minusSpan := func(x int64) string {
		return "(SELECT CASE WHEN span = 9223372036854775807 THEN -9223372036854775808 ELSE " + b.arg(x) +
			" - span END FROM idx_date_span WHERE type = " + b.arg(typ) + " AND param = " + b.arg(code) + ")"
	}
	// Lower bounds first, then upper ones: placeholders are added in the
	// order of the text.
	var lower, upper []string
	for _, p := range g {
		v := p.Value
		switch v.Prefix {
		case search.Eq, "":
			lower = append(lower, b.arg(v.Lo))
		case search.Gt:
			lower = append(lower, minusSpan(v.Hi))
		case search.Ge:
			lower = append(lower, "min("+b.arg(v.Lo)+", "+minusSpan(v.Hi)+")")
		case search.Sa:
			lower = append(lower, b.arg(v.Hi))
		case search.Ap:
			lower = append(lower, minusSpan(v.ApLo))
		}
	}
	out := ""
	if len(lower) > 0 {
		out += " AND lo >= " + bound("max", lower)
	}
	for _, p := range g {
		v := p.Value
		switch v.Prefix {
		case search.Eq, "", search.Le:
			upper = append(upper, b.arg(v.Hi))
		case search.Lt, search.Eb:
			upper = append(upper, b.arg(v.Lo))
		case search.Ap:
			upper = append(upper, b.arg(v.ApHi))
		}
	}
	if len(upper) > 0 {
		out += " AND lo < " + bound("min", upper)
	}
	return out
}

// bound combines bounds with SQLite's scalar max() or min(), which need
// two arguments at least.
func bound(fn string, exprs []string) string {
	if len(exprs) == 1 {
		return exprs[0]
	}
	return fn + "(" + strings.Join(exprs, ", ") + ")"
}
