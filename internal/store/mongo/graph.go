package mongo

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/fhir/search"
)

// Chains, _has and _list follow references between resources, which one
// MongoDB query cannot (FerretDB has no $lookup, and on MongoDB a $lookup
// per candidate would be slower than this): the resources on the far side
// are searched first, and the predicate becomes a test of the candidate's
// references (or _id) against their keys. maxLinked bounds that list; a
// search that links more is refused rather than answered partly.
const maxLinked = 10000

// chain is ref:Type.next: resources whose ref points at a live resource
// matching next.
func (t *translator) chain(p search.Predicate, typ string) (node, error) {
	if p.Param == nil || p.Param.Type != search.Reference {
		return nil, fmt.Errorf("mongo: a chain must start with a reference parameter")
	}
	targets, err := t.linked(p.Chain.Type, p.Chain.Next, "")
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(targets))
	for i, d := range targets {
		keys[i] = d.Key
	}
	if len(keys) == 0 {
		return never, nil
	}
	return in(values(p.Param.Code, clRef), keys), nil
}

// has is _has:Type:ref:next: resources that a live resource of Type
// matching next points at through ref.
func (t *translator) has(h *search.Has, typ string) (node, error) {
	if h.RefParam == nil {
		return nil, fmt.Errorf("mongo: _has without a reference parameter")
	}
	refField := fieldName(h.RefParam.Code)
	sources, err := t.linked(h.Type, h.Next, refField)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, d := range sources {
		for _, r := range d.X[refField][clRef] {
			if k, ok := r.(string); ok && (typ == "" || strings.HasPrefix(k, typ+"/")) {
				keys = appendNew(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return never, nil
	}
	if len(keys) > maxLinked {
		return nil, unsupported("_has:%s:%s links more than %d resources; narrow the search", h.Type, h.RefParam.Code, maxLinked)
	}
	return in(topField("_id"), keys), nil
}

// list is _list=id: the items (List.entry.item, indexed as the List's
// "item" reference) of the current List/id.
func (t *translator) list(v search.Value) (node, error) {
	if strings.HasPrefix(v.Code, "$") {
		return nil, unsupported("the functional list %s is not supported; name a List by its id", v.Code)
	}
	var d resourceDoc
	err := t.s.resOf("List").FindOne(t.ctx, bson.D{{Key: "_id", Value: resourceKey("List", v.Code)}, {Key: "del", Value: false}},
		options.FindOne().SetProjection(bson.D{{Key: "x.item." + clRef, Value: 1}})).Decode(&d)
	if err != nil {
		if isNoDocuments(err) {
			return never, nil
		}
		return nil, fmt.Errorf("mongo: read List/%s: %w", v.Code, err)
	}
	var keys []string
	for _, r := range d.X["item"][clRef] {
		if k, ok := r.(string); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return never, nil
	}
	return in(topField("_id"), keys), nil
}

// linked runs the far side of a chain or _has: the live resources of typ
// (any type when empty) that match next, with their references of
// refField when set.
func (t *translator) linked(typ string, next search.Predicate, refField string) ([]resourceDoc, error) {
	q := &search.Query{Type: typ, Where: []search.Clause{{Any: []search.Predicate{next}}}}
	n, err := t.query(q)
	if err != nil {
		return nil, err
	}
	proj := bson.D{{Key: "_id", Value: 1}, {Key: "type", Value: 1}}
	if needsEval(n) {
		proj = append(proj, bson.E{Key: "x", Value: 1}, bson.E{Key: "mv", Value: 1}, bson.E{Key: "vx", Value: 1})
	} else if refField != "" {
		proj = append(proj, bson.E{Key: "x." + refField + "." + clRef, Value: 1})
	}
	var out []resourceDoc
	err = t.s.scan(t.ctx, n, options.Find().SetProjection(proj), func(d *resourceDoc) bool {
		out = append(out, *d)
		return len(out) <= maxLinked
	})
	if err != nil {
		return nil, err
	}
	if len(out) > maxLinked {
		return nil, unsupported("a chain or _has over %s matches more than %d resources; narrow the search", typOrAll(typ), maxLinked)
	}
	return out, nil
}

func typOrAll(typ string) string {
	if typ == "" {
		return "every type"
	}
	return typ
}

// compartment is membership of a compartment: a reference to the owner
// through one of the member type's parameters (or, WithOwner, being it).
func (t *translator) compartment(q *search.Query, c *search.Compartment) (node, error) {
	if c.AnyOwner != (c.ID == "") {
		return nil, fmt.Errorf("mongo: a compartment needs an owner id, or AnyOwner without one")
	}
	if c.AnyOwner {
		return t.anyOwner(q, c), nil
	}
	owner := resourceKey(c.Type, c.ID)
	refersToOwner := func(params []string) node {
		var alts or
		for _, p := range params {
			alts = append(alts, eq(values(p, clRef), owner))
		}
		return alts
	}
	if c.ByType == nil && !c.WithOwner {
		return refersToOwner(c.Params), nil
	}
	links := c.ByType
	if links == nil && q.Type != "" {
		links = map[string][]string{q.Type: c.Params}
	}
	types := make([]string, 0, len(links))
	for typ, params := range links {
		if len(params) > 0 {
			types = append(types, typ)
		}
	}
	slices.Sort(types) // the same filter, and cursor, on every page
	var members or
	if c.WithOwner {
		members = append(members, eq(topField("_id"), owner))
	}
	for _, typ := range types {
		members = append(members, and{eq(topField("type"), typ), refersToOwner(links[typ])})
	}
	return members, nil
}

// anyOwner is the union of every live owner's compartment
// (Patient/$everything without an id): the owners themselves (WithOwner),
// and the resources of each member type that refer through its parameters
// to a live owner. The server selects those referring to any owner of the
// type; whether that owner lives is looked up as candidates come (most of
// a store is in some patient's compartment, so collecting the members up
// front would read it all).
func (t *translator) anyOwner(q *search.Query, c *search.Compartment) node {
	links := c.ByType
	if links == nil && q.Type != "" {
		links = map[string][]string{q.Type: c.Params}
	}
	types := make([]string, 0, len(links))
	for typ, params := range links {
		if len(params) > 0 {
			types = append(types, typ)
		}
	}
	slices.Sort(types)
	live := &liveOwners{s: t.s, ctx: t.ctx, known: map[string]bool{}}
	var members or
	if c.WithOwner {
		members = append(members, eq(topField("type"), c.Type))
	}
	for _, typ := range types {
		members = append(members, and{eq(topField("type"), typ), ownerRef{ownerType: c.Type, params: links[typ], live: live}})
	}
	return members
}

// ownerRef holds for a resource with a reference, through one of params,
// to a live resource of ownerType.
type ownerRef struct {
	ownerType string
	params    []string
	live      *liveOwners
}

func (o ownerRef) render() bson.D {
	var alts or
	for _, p := range o.params {
		alts = append(alts, matches(values(p, clRef), "^"+regexp.QuoteMeta(o.ownerType+"/")))
	}
	return alts.render()
}

func (o ownerRef) eval(d *resourceDoc) bool {
	for _, p := range o.params {
		for _, r := range d.X[fieldName(p)][clRef] {
			if k, ok := r.(string); ok && strings.HasPrefix(k, o.ownerType+"/") && o.live.is(k) {
				return true
			}
		}
	}
	return false
}

// liveOwners remembers which owners a search has found live. A failed
// look-up is kept in err, which the scan reports.
type liveOwners struct {
	s     *Store
	ctx   context.Context
	known map[string]bool
	err   error
}

func (l *liveOwners) is(key string) bool {
	if v, ok := l.known[key]; ok || l.err != nil {
		return v
	}
	n, err := l.s.resOfKey(key).CountDocuments(l.ctx, bson.D{{Key: "_id", Value: key}, {Key: "del", Value: false}})
	if err != nil {
		l.err = fmt.Errorf("mongo: look up %s: %w", key, err)
		return false
	}
	l.known[key] = n > 0
	return n > 0
}
