package mongo

import (
	"regexp"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/telederm/telederm/fhir/search"
)

// A search is translated into a small tree of conditions (translate.go),
// which renders as a MongoDB filter and can also be evaluated in Go on a
// fetched document. Go evaluation is needed only where the filter is a
// superset: a predicate that tests two fields of one value (a date eq or
// ap, a quantity with a unit, a composite) on a parameter with several
// values. Such a predicate is a verify node: its superset goes to the
// server, and the documents that come back are decided on their entries.
type node interface {
	render() bson.D
	eval(d *resourceDoc) bool
}

// where is the place a condition tests: a top-level field of the resource
// document ("_id", "type"), a parameter's presence (class ""), or one class
// of a parameter's values.
type where struct {
	top          string
	field, class string
}

func topField(name string) where      { return where{top: name} }
func param(code string) where         { return where{field: fieldName(code)} }
func values(code, class string) where { return where{field: fieldName(code), class: class} }
func (w where) path() string {
	switch {
	case w.top != "":
		return w.top
	case w.class == "":
		return "x." + w.field
	}
	return "x." + w.field + "." + w.class
}

// of returns the values at w in d.
func (w where) of(d *resourceDoc) []any {
	switch w.top {
	case "_id":
		return []any{d.Key}
	case "type":
		return []any{d.Type}
	case "del":
		return []any{d.Del}
	}
	return d.X[w.field][w.class]
}

// cond is one operator on one place: true when some value there passes.
type cond struct {
	at  where
	op  string // $eq, $in, $regex, $gt, $gte, $lt, $lte, $exists
	val any
	re  *regexp.Regexp
}

func eq(at where, v any) node               { return cond{at: at, op: "$eq", val: v} }
func in(at where, vs []string) node         { return cond{at: at, op: "$in", val: vs} }
func cmpOp(at where, op string, v any) node { return cond{at: at, op: op, val: v} }
func exists(at where) node                  { return cond{at: at, op: "$exists", val: true} }

// matches is a regular expression (RE2 and PCRE read the patterns built
// here alike: literal text and ^).
func matches(at where, pattern string) node {
	return cond{at: at, op: "$regex", val: pattern, re: regexp.MustCompile(pattern)}
}

func (c cond) render() bson.D {
	if c.op == "$eq" {
		return bson.D{{Key: c.at.path(), Value: c.val}}
	}
	return bson.D{{Key: c.at.path(), Value: bson.D{{Key: c.op, Value: c.val}}}}
}

func (c cond) eval(d *resourceDoc) bool {
	if c.op == "$exists" && c.at.class == "" && c.at.top == "" {
		return len(d.X[c.at.field]) > 0
	}
	vals := c.at.of(d)
	if c.op == "$exists" {
		return len(vals) > 0
	}
	for _, v := range vals {
		if c.test(v) {
			return true
		}
	}
	return false
}

func (c cond) test(v any) bool {
	switch c.op {
	case "$regex":
		s, ok := v.(string)
		return ok && c.re.MatchString(s)
	case "$in":
		s, ok := v.(string)
		return ok && slices.Contains(c.val.([]string), s)
	}
	r, ok := compareValues(v, c.val)
	if !ok {
		return false
	}
	switch c.op {
	case "$eq":
		return r == 0
	case "$gt":
		return r > 0
	case "$gte":
		return r >= 0
	case "$lt":
		return r < 0
	case "$lte":
		return r <= 0
	}
	return false
}

// and, or and nor combine nodes; nor is "none of them".
type and []node
type or []node
type nor []node

func (a and) render() bson.D {
	flat := a.flatten()
	switch len(flat) {
	case 0:
		return bson.D{}
	case 1:
		return flat[0].render()
	}
	return bson.D{{Key: "$and", Value: renderAll(flat)}}
}

// flatten lifts the terms of nested conjunctions into this one.
func (a and) flatten() and {
	var out and
	for _, n := range a {
		if inner, ok := n.(and); ok {
			out = append(out, inner.flatten()...)
		} else {
			out = append(out, n)
		}
	}
	return out
}

func (a and) eval(d *resourceDoc) bool {
	for _, n := range a {
		if !n.eval(d) {
			return false
		}
	}
	return true
}

func (o or) render() bson.D {
	switch len(o) {
	case 0:
		return never.render()
	case 1:
		return o[0].render()
	}
	return bson.D{{Key: "$or", Value: renderAll(o)}}
}

func (o or) eval(d *resourceDoc) bool {
	for _, n := range o {
		if n.eval(d) {
			return true
		}
	}
	return false
}

func (n nor) render() bson.D {
	if len(n) == 0 {
		return bson.D{}
	}
	return bson.D{{Key: "$nor", Value: renderAll(n)}}
}

func (n nor) eval(d *resourceDoc) bool { return !or(n).eval(d) }

func renderAll(ns []node) bson.A {
	out := make(bson.A, len(ns))
	for i, n := range ns {
		out[i] = n.render()
	}
	return out
}

// constant is a node that always or never holds.
type constant bool

const (
	always = constant(true)
	never  = constant(false)
)

func (c constant) render() bson.D {
	if c {
		return bson.D{}
	}
	return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{}}}}}
}

func (c constant) eval(*resourceDoc) bool { return bool(c) }

// verify is a predicate the server answers only as a superset on a
// resource with several values of the parameter (or any composite): exact
// is right for one value; with several, the entries decide.
type verify struct {
	superset, exact node
	pred            search.Predicate
	field           string // the parameter's field name
	composite       bool
}

func (v verify) render() bson.D { return v.superset.render() }

func (v verify) eval(d *resourceDoc) bool {
	if !v.composite && !slices.Contains(d.MV, v.pred.Param.Code) {
		return v.exact.eval(d)
	}
	var entries []search.Entry
	for _, e := range d.VX {
		if e.P == v.pred.Param.Code {
			entries = append(entries, e.entry())
		}
	}
	return v.pred.MatchEntries(entries)
}

// needsEval reports whether n has a verify node, so that the server's
// answer must be checked in Go.
func needsEval(n node) bool {
	switch x := n.(type) {
	case verify, ownerRef:
		return true
	case and:
		return slices.ContainsFunc(x, needsEval)
	case or:
		return slices.ContainsFunc(x, needsEval)
	case nor:
		return slices.ContainsFunc(x, needsEval)
	}
	return false
}

// evalErr reports a look-up that failed while n was evaluated (ownerRef):
// its answer cannot be trusted.
func evalErr(n node) error {
	switch x := n.(type) {
	case ownerRef:
		return x.live.err
	case and:
		return firstErr(x)
	case or:
		return firstErr(x)
	case nor:
		return firstErr(x)
	}
	return nil
}

func firstErr(ns []node) error {
	for _, n := range ns {
		if err := evalErr(n); err != nil {
			return err
		}
	}
	return nil
}
