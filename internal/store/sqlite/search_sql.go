package sqlite

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir/search"
)

// sqlBuilder turns a parsed query into SQL over the index tables. Every
// predicate becomes "<alias>.rid [NOT] IN (SELECT rid FROM idx_... WHERE
// type = ? AND param = ? AND ...)", which SQLite answers from the
// (type, param, value) indexes; chains and _has nest the same shape.
type sqlBuilder struct {
	args   []any
	nalias int
	// cols, when set, renames the value columns: composite parts are read
	// from JSON instead of from a table's own columns.
	cols func(string) string
	// correlated renders a resource's own predicates as EXISTS over its
	// index rows (by rowid range) instead of "rid IN (every match)": the
	// right shape when few resource rows are tested, as when a sorted
	// page walks the sort key's index and stops when full.
	correlated bool
}

// paramCond selects the index rows of param: for a string, token or
// composite parameter, also those of the narrower parameters its stored values were
// left to.
func (b *sqlBuilder) paramCond(table, typ, param string) string {
	switch table {
	case "idx_string":
		return sourcesCond(search.String, typ, param, b.arg)
	case "idx_token":
		return sourcesCond(search.Token, typ, param, b.arg)
	case "idx_composite":
		return sourcesCond(search.Composite, typ, param, b.arg)
	}
	return "param = " + b.arg(param)
}

// sourcesCond is the condition on an index row's param (and type) that
// finds the values of typ's kind parameter param: the store leaves
// repeated values out by the R4 registry's relations (storedEntries), so
// it searches by the same, typ's Sources, or every type's
// (search.SourcesAcrossTypes) when typ is empty. value renders a value
// (a placeholder, or a literal).
func sourcesCond(kind search.Type, typ, param string, value func(any) string) string {
	reg := search.Default()
	list := func(vals []string) string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = value(v)
		}
		return strings.Join(out, ", ")
	}
	if typ != "" {
		params := reg.Sources(typ, param).Params
		if len(params) == 1 {
			return "param = " + value(params[0])
		}
		return "param IN (" + list(params) + ")"
	}
	conds := []string{"param = " + value(param)}
	for _, g := range reg.SourcesAcrossTypes(kind, param) {
		conds = append(conds, "(type IN ("+list(g.Types)+") AND param IN ("+list(g.Params)+"))")
	}
	if len(conds) == 1 {
		return conds[0]
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// col names a value column of the table being tested.
func (b *sqlBuilder) col(name string) string {
	if b.cols != nil {
		return b.cols(name)
	}
	return name
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "?"
}

func (b *sqlBuilder) alias() string {
	b.nalias++
	return "t" + strconv.Itoa(b.nalias)
}

// where renders the conditions of q on the resource row alias r.
func (b *sqlBuilder) where(q *search.Query, r string) (string, error) {
	var conds []string
	// A search of every owner's compartment tests each row cheaply and
	// should walk resource in rid order, so a page stops once it is full;
	// "+" keeps SQLite from choosing the type index (and a sort) instead.
	typeCol := r + ".type"
	if c := q.Compartment; c != nil && c.AnyOwner {
		typeCol = "+" + typeCol
	}
	switch {
	case q.Type != "":
		conds = append(conds, typeCol+" = "+b.arg(q.Type))
	case len(q.Types) > 0:
		conds = append(conds, typeCol+" IN ("+b.argList(q.Types)+")")
	}
	conds = append(conds, r+".deleted = 0")
	if c := q.Compartment; c != nil {
		cond, err := b.compartment(q, c, r)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	ranges, rest := rangeGroups(q)
	for _, g := range ranges {
		c, err := b.rangeGroup(g, r, q.Type)
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	for _, cl := range rest {
		c, err := b.clause(cl, r, q.Type)
		if err != nil {
			return "", err
		}
		conds = append(conds, c)
	}
	return strings.Join(conds, " AND "), nil
}

// compartment renders membership of q's compartment for the resource row
// r: a reference to the owner through one of the member type's parameters
// (or, WithOwner, being the owner).
func (b *sqlBuilder) compartment(q *search.Query, c *search.Compartment, r string) (string, error) {
	if c.AnyOwner != (c.ID == "") {
		return "", fmt.Errorf("a compartment needs an owner id, or AnyOwner without one")
	}
	if c.ByType == nil && !c.WithOwner && !c.AnyOwner {
		// One type, one owner: the plain compartment search. Placeholders
		// are added in the order of the text.
		cond := fmt.Sprintf("%s.rid IN (SELECT rid FROM idx_ref WHERE ref_type = %s AND ref_id = %s AND type = %s AND param IN (",
			r, b.arg(c.Type), b.arg(c.ID), b.arg(q.Type))
		return cond + b.argList(c.Params) + "))", nil
	}
	links := c.ByType
	if links == nil && q.Type != "" {
		links = map[string][]string{q.Type: c.Params}
	}
	// Types in sorted order: the SQL, and with it the cursor's fingerprint,
	// must be the same for every page.
	types := make([]string, 0, len(links))
	for t := range links {
		if len(links[t]) > 0 {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	if c.AnyOwner {
		return b.anyOwnerCompartment(c, types, links, r), nil
	}
	var members []string
	if c.WithOwner {
		members = append(members, fmt.Sprintf("SELECT rid FROM resource WHERE type = %s AND id = %s", b.arg(c.Type), b.arg(c.ID)))
	}
	if len(types) > 0 {
		// One owner has few references to it: collect them through the
		// (ref_type, ref_id, type, param) index.
		per := make([]string, len(types))
		ref := fmt.Sprintf("SELECT rid FROM idx_ref WHERE ref_type = %s AND ref_id = %s AND (", b.arg(c.Type), b.arg(c.ID))
		for i, t := range types {
			per[i] = "(type = " + b.arg(t) + " AND param IN (" + b.argList(links[t]) + "))"
		}
		members = append(members, ref+strings.Join(per, " OR ")+")")
	}
	if len(members) == 0 {
		return "0", nil
	}
	return r + ".rid IN (" + strings.Join(members, " UNION ALL ") + ")", nil
}

// anyOwnerCompartment is the union of every live owner's compartment. Most
// of a store is in some patient's compartment, so rather than collect the
// members up front it tests each candidate row, and a page stops as soon as
// it is full.
func (b *sqlBuilder) anyOwnerCompartment(c *search.Compartment, types []string, links map[string][]string, r string) string {
	var alts []string
	if c.WithOwner {
		alts = append(alts, r+".type = "+b.arg(c.Type))
	}
	if len(types) > 0 {
		f, o := b.alias(), b.alias()
		// The row's references are one rowid range of idx_ref; "+" keeps
		// SQLite from scanning every reference to the owner type instead.
		// Placeholders are added in the order of the text.
		head := fmt.Sprintf("EXISTS (SELECT 1 FROM idx_ref %s JOIN resource %s ON %s.type = %s.ref_type AND %s.id = %s.ref_id WHERE %s AND +%s.ref_type = %s AND %s.deleted = 0 AND (",
			f, o, o, f, o, f, rowsOf(f, r+".rid"), f, b.arg(c.Type), o)
		per := make([]string, len(types))
		for i, t := range types {
			per[i] = "(" + r + ".type = " + b.arg(t) + " AND " + f + ".param IN (" + b.argList(links[t]) + "))"
		}
		alts = append(alts, head+strings.Join(per, " OR ")+"))")
	}
	if len(alts) == 0 {
		return "0"
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

// argList is a comma-separated placeholder for each value.
func (b *sqlBuilder) argList(vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = b.arg(v)
	}
	return strings.Join(ph, ", ")
}

func (b *sqlBuilder) clause(cl search.Clause, r, typ string) (string, error) {
	parts := make([]string, 0, len(cl.Any))
	for _, p := range cl.Any {
		s, err := b.predicate(p, r, typ)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return "(" + strings.Join(parts, " OR ") + ")", nil
}

// predicate renders one test on the resource row r, whose type is typ
// ("" when it varies: system search, untyped chain targets).
func (b *sqlBuilder) predicate(p search.Predicate, r, typ string) (string, error) {
	switch {
	case p.Has != nil:
		return b.has(p.Has, r, typ)
	case p.Chain != nil:
		return b.chain(p, r, typ)
	}
	if p.Param == nil {
		return "", fmt.Errorf("predicate without a parameter")
	}
	if p.Param.Code == "_list" && p.Param.Type == search.Special {
		return b.list(p.Value, r)
	}
	if isID(p.Param) {
		return b.idPredicate(p, r)
	}
	table, ok := tableOf(p.Param.Type)
	if !ok {
		return "", fmt.Errorf("search on a %s parameter (%s) is not supported", p.Param.Type, p.Param.Code)
	}
	if p.Missing != nil {
		return b.member(table, typ, r, p.Param.Code, nil, *p.Missing)
	}
	// The value's condition is rendered inside the subquery, after the
	// type and param placeholders, so the arguments stay in placeholder
	// order.
	return b.member(table, typ, r, p.Param.Code, func() (string, error) { return b.valueCond(p) }, modifier(p) == "not")
}

// isID reports whether param is _id, which the store answers from the
// resource row itself: it keeps no index rows for it (storedEntries).
func isID(param *search.Param) bool {
	return param.Code == "_id" && param.Type == search.Token
}

// idPredicate renders a test of _id on the resource row r as the token
// test of the one entry the indexer gives it: code the id, no system,
// text or type.
func (b *sqlBuilder) idPredicate(p search.Predicate, r string) (string, error) {
	if p.Missing != nil { // every resource has an id
		if *p.Missing {
			return "0", nil
		}
		return "1", nil
	}
	saved := b.cols
	b.cols = func(name string) string {
		if name == "code" {
			return r + ".id"
		}
		return "''"
	}
	defer func() { b.cols = saved }()
	c, err := b.tokenCond(modifier(p), p.Value)
	if err != nil {
		return "", err
	}
	if modifier(p) == "not" {
		return "NOT (" + c + ")", nil
	}
	return "(" + c + ")", nil
}

// member renders "resource row r has (negate: has no) entry of param in
// table meeting cond".
func (b *sqlBuilder) member(table, typ, r, param string, cond func() (string, error), negate bool) (string, error) {
	not := ""
	if negate {
		not = "NOT "
	}
	if b.correlated {
		w := []string{rowsOf(table, r+".rid"), b.paramCond(table, typ, param)}
		if cond != nil {
			c, err := cond()
			if err != nil {
				return "", err
			}
			w = append(w, c)
		}
		return not + "EXISTS (SELECT 1 FROM " + table + " WHERE " + strings.Join(w, " AND ") + ")", nil
	}
	sub, err := b.subquery(table, typ, r, param, cond)
	if err != nil {
		return "", err
	}
	return r + ".rid " + not + "IN " + sub, nil
}

// list renders _list=id: the resource is an item of the current List/id
// (List.entry.item, indexed as the List's "item" reference parameter).
// Functional lists ($current-medications) need rules this server does not
// keep.
func (b *sqlBuilder) list(v search.Value, r string) (string, error) {
	if strings.HasPrefix(v.Code, "$") {
		return "", fmt.Errorf("the functional list %s is not supported; name a List by its id", v.Code)
	}
	x, l := b.alias(), b.alias()
	return fmt.Sprintf("EXISTS (SELECT 1 FROM resource %s JOIN idx_ref %s ON %s AND %s.param = 'item' WHERE %s.type = 'List' AND %s.id = %s AND %s.deleted = 0 AND %s.ref_type = %s.type AND %s.ref_id = %s.id)",
		l, x, rowsOf(x, l+".rid"), x, l, l, b.arg(v.Code), l, x, r, x, r), nil
}

// subquery selects the rids with an entry of param in table that meets
// the condition cond renders (nil: any entry).
func (b *sqlBuilder) subquery(table, typ, r, param string, cond func() (string, error)) (string, error) {
	var w []string
	if typ != "" {
		w = append(w, "type = "+b.arg(typ))
	} else {
		w = append(w, "type = "+r+".type")
	}
	w = append(w, b.paramCond(table, typ, param))
	if cond != nil {
		c, err := cond()
		if err != nil {
			return "", err
		}
		w = append(w, c)
	}
	return "(SELECT rid FROM " + table + " WHERE " + strings.Join(w, " AND ") + ")", nil
}

func tableOf(t search.Type) (string, bool) {
	switch t {
	case search.Token:
		return "idx_token", true
	case search.String:
		return "idx_string", true
	case search.Date:
		return "idx_date", true
	case search.Number, search.Quantity:
		return "idx_number", true
	case search.Reference:
		return "idx_ref", true
	case search.URI:
		return "idx_uri", true
	case search.Composite:
		return "idx_composite", true
	}
	return "", false
}

// valueCond renders the comparison of one value, on the columns of the
// parameter type's table.
func (b *sqlBuilder) valueCond(p search.Predicate) (string, error) {
	v := p.Value
	switch p.Param.Type {
	case search.Token:
		return b.tokenCond(modifier(p), v)
	case search.String:
		switch modifier(p) {
		case "exact":
			return b.col("exact") + " = " + b.arg(v.Exact), nil
		case "contains":
			return b.col("norm") + " LIKE " + b.arg("%"+likeEscape(v.Text)+"%") + ` ESCAPE '\'`, nil
		case "", "not":
			return b.prefixCond(b.col("norm"), v.Text), nil
		}
	case search.Date:
		lo, hi := v.Lo, v.Hi
		if v.Prefix == search.Ap {
			lo, hi = v.ApLo, v.ApHi
		}
		return b.rangeCond(v.Prefix, b.col("lo"), b.col("hi"), lo, hi)
	case search.Number:
		return b.numberCond(v)
	case search.Quantity:
		c, err := b.numberCond(v)
		if err != nil {
			return "", err
		}
		switch {
		case v.System != "" && v.Code != "":
			c += " AND " + b.col("system") + " = " + b.arg(v.System) + " AND " + b.col("code") + " = " + b.arg(v.Code)
		case v.Code != "":
			c += " AND (" + b.col("code") + " = " + b.arg(v.Code) + " OR " + b.col("unit") + " = " + b.arg(v.Code) + ")"
		}
		return c, nil
	case search.Reference:
		return b.refCond(modifier(p), v.Ref)
	case search.URI:
		switch modifier(p) {
		case "", "not":
			return b.col("uri") + " = " + b.arg(v.URI), nil
		case "above": // the stored uri is a prefix of the value
			return "substr(" + b.arg(v.URI) + ", 1, length(" + b.col("uri") + ")) = " + b.col("uri"), nil
		case "below": // the value is a prefix of the stored uri
			return b.prefixCond(b.col("uri"), v.URI), nil
		}
	case search.Composite:
		return b.compositeCond(p)
	}
	return "", fmt.Errorf("modifier :%s is not supported on %s parameter %s", p.Modifier, p.Param.Type, p.Param.Code)
}

// modifier is the predicate's modifier without its colon ("not", "exact").
func modifier(p search.Predicate) string { return strings.TrimPrefix(p.Modifier, ":") }

// numberCond compares numbers and quantities. R4 reads eq, ne and ap at
// the precision the value was written with ("100" is [99.5, 100.5)), but
// gt, lt, ge and le against the exact value ("gt100: greater than exactly
// 100"), so those compare the stored value itself.
func (b *sqlBuilder) numberCond(v search.Value) (string, error) {
	op := map[search.Prefix]string{search.Gt: " > ", search.Lt: " < ", search.Ge: " >= ", search.Le: " <= "}[v.Prefix]
	if op != "" {
		return b.col("num") + op + b.arg(v.Num), nil
	}
	lo, hi := numRange(v)
	return b.rangeCond(v.Prefix, b.col("lo"), b.col("hi"), lo, hi)
}

// numRange is the range a number or quantity value is compared with: the
// approximate range for ap, else its precision range.
func numRange(v search.Value) (lo, hi float64) {
	if v.Prefix == search.Ap {
		return v.ApNumLo, v.ApNumHi
	}
	return v.NumLo, v.NumHi
}

func (b *sqlBuilder) tokenCond(modifier string, v search.Value) (string, error) {
	switch modifier {
	case "text":
		return b.prefixCond(b.col("text"), v.Text), nil
	case "of-type":
		return b.col("type_system") + " = " + b.arg(v.TypeSystem) + " AND " + b.col("type_code") + " = " + b.arg(v.TypeCode) + " AND " + b.col("code") + " = " + b.arg(v.Code), nil
	case "", "not":
	default:
		return "", fmt.Errorf("token modifier :%s is not supported", modifier)
	}
	switch {
	case v.HasSystem && v.Code == "":
		return b.col("system") + " = " + b.arg(v.System), nil
	case v.HasSystem:
		return b.col("code") + " = " + b.arg(v.Code) + " AND " + b.col("system") + " = " + b.arg(v.System), nil
	default:
		return b.col("code") + " = " + b.arg(v.Code), nil
	}
}

func (b *sqlBuilder) refCond(modifier string, r *search.RefValue) (string, error) {
	if r == nil {
		return "", fmt.Errorf("reference predicate without a value")
	}
	if modifier == "identifier" {
		if r.Code == "" && r.System != "" { // "system|": any value in that system
			return b.col("system") + " = " + b.arg(r.System), nil
		}
		c := b.col("code") + " = " + b.arg(r.Code)
		if r.System != "" || r.HasSystem { // "|value": explicitly no system
			c += " AND " + b.col("system") + " = " + b.arg(r.System)
		}
		return c, nil
	}
	switch {
	case r.ID != "" && r.Type != "":
		return b.col("ref_id") + " = " + b.arg(r.ID) + " AND " + b.col("ref_type") + " = " + b.arg(r.Type), nil
	case r.ID != "":
		// A bare value is an id, or a relative canonical that was indexed
		// as written (relatedArtifact.resource "library-x").
		return "(" + b.col("ref_id") + " = " + b.arg(r.ID) + " OR " + b.col("url") + " = " + b.arg(r.ID) + ")", nil
	// "url != ''" lets SQLite use the partial index on URLs.
	case r.URL != "" && r.Version != "":
		return b.col("url") + " != '' AND " + b.col("url") + " = " + b.arg(r.URL) + " AND " + b.col("version") + " = " + b.arg(r.Version), nil
	case r.URL != "":
		return b.col("url") + " != '' AND " + b.col("url") + " = " + b.arg(r.URL), nil
	}
	return "", fmt.Errorf("empty reference value")
}

// prefixCond matches values that start with prefix as an index range:
// [prefix, prefix+U+10FFFF) holds exactly the strings that start with it
// under SQLite's binary collation.
func (b *sqlBuilder) prefixCond(col, prefix string) string {
	if prefix == "" {
		return "1"
	}
	return col + " >= " + b.arg(prefix) + " AND " + col + " < " + b.arg(prefix+"\U0010FFFF")
}

// rangeCond renders a prefix comparison between the search range [lo, hi)
// and each entry's range [loCol, hiCol), as the R4 search page defines it.
// lo and hi are int64 µs for dates (bound as they are: a float64 holds
// only 53 bits, which moves µs and ms boundaries after the year 2255) and
// float64 for numbers.
func (b *sqlBuilder) rangeCond(prefix search.Prefix, loCol, hiCol string, lo, hi any) (string, error) {
	// Each placeholder is added where it is written, so the arguments stay
	// in the order of the text.
	L := func() string { return b.arg(lo) }
	H := func() string { return b.arg(hi) }
	within := func() string { return fmt.Sprintf("(%s >= %s AND %s <= %s)", loCol, L(), hiCol, H()) }
	switch prefix {
	case search.Eq, "":
		return within(), nil
	case search.Ne:
		return "NOT " + within(), nil
	case search.Gt:
		return hiCol + " > " + H(), nil
	case search.Lt:
		return loCol + " < " + L(), nil
	case search.Ge:
		return fmt.Sprintf("(%s > %s OR %s)", hiCol, H(), within()), nil
	case search.Le:
		return fmt.Sprintf("(%s < %s OR %s)", loCol, L(), within()), nil
	case search.Sa:
		return loCol + " >= " + H(), nil
	case search.Eb:
		return hiCol + " <= " + L(), nil
	case search.Ap:
		// The parser widens the range for ap; any overlap matches.
		return fmt.Sprintf("(%s < %s AND %s > %s)", loCol, H(), hiCol, L()), nil
	}
	return "", fmt.Errorf("unknown prefix %q", prefix)
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// chain follows a reference parameter to the resources it points at and
// tests them.
func (b *sqlBuilder) chain(p search.Predicate, r, typ string) (string, error) {
	if p.Param == nil || p.Param.Type != search.Reference {
		return "", fmt.Errorf("a chain must start with a reference parameter")
	}
	f, t := b.alias(), b.alias()
	var w []string
	if typ != "" {
		w = append(w, f+".type = "+b.arg(typ))
	} else {
		w = append(w, f+".type = "+r+".type")
	}
	w = append(w, f+".param = "+b.arg(p.Param.Code))
	if p.Chain.Type != "" {
		w = append(w, f+".ref_type = "+b.arg(p.Chain.Type))
	}
	w = append(w, t+".deleted = 0")
	next, err := b.predicate(p.Chain.Next, t, p.Chain.Type)
	if err != nil {
		return "", err
	}
	w = append(w, next)
	return fmt.Sprintf("%s.rid IN (SELECT %s.rid FROM idx_ref %s JOIN resource %s ON %s.type = %s.ref_type AND %s.id = %s.ref_id WHERE %s)",
		r, f, f, t, t, f, t, f, strings.Join(w, " AND ")), nil
}

// has is a reverse chain: resources of h.Type whose h.RefParam points at r
// and which satisfy h.Next.
func (b *sqlBuilder) has(h *search.Has, r, typ string) (string, error) {
	f, s := b.alias(), b.alias()
	w := []string{f + ".type = " + b.arg(h.Type), f + ".param = " + b.arg(h.RefParam.Code)}
	if typ != "" {
		w = append(w, f+".ref_type = "+b.arg(typ))
	} else {
		w = append(w, f+".ref_type = "+r+".type")
	}
	w = append(w, s+".deleted = 0")
	next, err := b.predicate(h.Next, s, h.Type)
	if err != nil {
		return "", err
	}
	w = append(w, next)
	return fmt.Sprintf("%s.id IN (SELECT %s.ref_id FROM idx_ref %s JOIN resource %s ON %s.rid = %s.rid WHERE %s)",
		r, f, f, s, s, f, strings.Join(w, " AND ")), nil
}
