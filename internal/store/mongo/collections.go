package mongo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Each resource type's current resource documents are a collection of
// their own, "resources.<Type>". Nearly every query names its type, so it
// reads one collection, whose indexes hold that type only; each type can
// have its own shard key (the patient compartment's reference for
// clinical types, _id for Patient, none for small definitional types);
// and on FerretDB, which filters every query in Go after reading the whole
// collection, a search reads its type's documents instead of the store's.
// Searches over several types (system search, _type, compartments) run on
// each type's collection and merge the results in the search's order.

const resourcesPrefix = "resources."

// resOf is typ's collection of resource documents.
func (s *Store) resOf(typ string) *mongo.Collection {
	if c, ok := s.resColls.Load(typ); ok {
		return c.(*mongo.Collection)
	}
	c, _ := s.resColls.LoadOrStore(typ, s.db.Collection(resourcesPrefix+typ))
	return c.(*mongo.Collection)
}

// resOfKey is the collection of the resource document keyed "Type/id".
func (s *Store) resOfKey(key string) *mongo.Collection { return s.resOf(typeOfKey(key)) }

func typeOfKey(key string) string {
	typ, _, _ := strings.Cut(key, "/")
	return typ
}

// ensureTypes creates the indexes of the types' collections that this
// process has not checked yet. It runs before a commit writes them (a
// transaction cannot create collections on every deployment).
func (s *Store) ensureTypes(ctx context.Context, types []string) error {
	for _, typ := range types {
		if _, ok := s.indexed.Load(typ); ok {
			continue
		}
		if err := s.ensureIndexesOf(ctx, resourcesPrefix+typ, resourceIndexes); err != nil {
			return err
		}
		s.indexed.Store(typ, true)
	}
	return nil
}

// storedTypes lists the types that have a collection of resource
// documents, in name order. It asks the server every time: another
// process may have written a new type since.
func (s *Store) storedTypes(ctx context.Context) ([]string, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("mongo: list collections: %w", err)
	}
	var types []string
	for _, n := range names {
		if typ, ok := strings.CutPrefix(n, resourcesPrefix); ok && typ != "" {
			types = append(types, typ)
		}
	}
	slices.Sort(types)
	return types, nil
}

// typesOf lists the types whose documents n can match, when n says
// (through its type or _id conditions); known is false when any type can.
func typesOf(n node) (types []string, known bool) {
	switch x := n.(type) {
	case cond:
		var vals []string
		switch v := x.val.(type) {
		case string:
			vals = []string{v}
		case []string:
			vals = v
		}
		switch {
		case x.at.top == "type" && (x.op == "$eq" || x.op == "$in"):
			return vals, true
		case x.at.top == "_id" && (x.op == "$eq" || x.op == "$in"):
			out := make([]string, 0, len(vals))
			for _, k := range vals {
				out = append(out, typeOfKey(k))
			}
			return out, true
		}
	case constant:
		if !x {
			return nil, true
		}
	case verify:
		return typesOf(x.superset)
	case and:
		var acc []string
		for _, c := range x {
			ts, ok := typesOf(c)
			if !ok {
				continue
			}
			if !known {
				acc, known = slices.Clone(ts), true
				continue
			}
			acc = slices.DeleteFunc(acc, func(t string) bool { return !slices.Contains(ts, t) })
		}
		return acc, known
	case or:
		var acc []string
		for _, c := range x {
			ts, ok := typesOf(c)
			if !ok {
				return nil, false
			}
			acc = append(acc, ts...)
		}
		return acc, true
	}
	return nil, false
}

// collectionsOf are the collections a query of n reads, in type order.
func (s *Store) collectionsOf(ctx context.Context, n node) ([]*mongo.Collection, error) {
	types, known := typesOf(n)
	if !known {
		var err error
		if types, err = s.storedTypes(ctx); err != nil {
			return nil, err
		}
	}
	types = slices.Compact(slices.Sorted(slices.Values(types)))
	out := make([]*mongo.Collection, len(types))
	for i, t := range types {
		out[i] = s.resOf(t)
	}
	return out, nil
}

// byType groups resource keys by their type, in type order.
func byType(keys []string) ([]string, map[string][]string) {
	groups := map[string][]string{}
	for _, k := range keys {
		t := typeOfKey(k)
		groups[t] = append(groups[t], k)
	}
	types := make([]string, 0, len(groups))
	for t := range groups {
		types = append(types, t)
	}
	slices.Sort(types)
	return types, groups
}

// findAll runs one filter on several collections and calls fn with each
// document, collection by collection, until fn returns false.
func findAll(ctx context.Context, colls []*mongo.Collection, filter any, opts *options.FindOptionsBuilder, fn func(*resourceDoc) bool) error {
	for _, c := range colls {
		cur, err := c.Find(ctx, filter, opts)
		if err != nil {
			return err
		}
		more := true
		for more && cur.Next(ctx) {
			var d resourceDoc
			if err := cur.Decode(&d); err != nil {
				_ = cur.Close(context.WithoutCancel(ctx))
				return err
			}
			more = fn(&d)
		}
		err = cur.Err()
		_ = cur.Close(context.WithoutCancel(ctx))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// merged reads several cursors, each in the search's order, as one
// stream in that order: each step takes the lowest of their heads.
type merged struct {
	ctx   context.Context
	curs  []*mongo.Cursor
	heads []*resourceDoc
	less  func(a, b *resourceDoc) int
	err   error
}

func (m *merged) advance(i int) {
	m.heads[i] = nil
	if m.curs[i].Next(m.ctx) {
		var d resourceDoc
		if err := m.curs[i].Decode(&d); err != nil {
			m.err = err
			return
		}
		m.heads[i] = &d
	} else if err := m.curs[i].Err(); err != nil {
		m.err = err
	}
}

// next is the lowest head, or nil at the end (or on an error, in m.err).
func (m *merged) next() *resourceDoc {
	best := -1
	for i, h := range m.heads {
		if h != nil && (best < 0 || m.less(h, m.heads[best]) < 0) {
			best = i
		}
	}
	if best < 0 || m.err != nil {
		return nil
	}
	d := m.heads[best]
	m.advance(best)
	return d
}

func (m *merged) close() {
	for _, c := range m.curs {
		_ = c.Close(context.WithoutCancel(m.ctx))
	}
}

// compareSorted orders documents as a search's sort keys do, then by
// creation, as MongoDB orders the values a sort key holds: missing (nil)
// first, then numbers, then strings (binary, the simple collation).
func compareSorted(keys []sortPath) func(a, b *resourceDoc) int {
	return func(a, b *resourceDoc) int {
		va, vb := cursorValues(keys, a), cursorValues(keys, b)
		for i, k := range keys {
			if c := compareSortValue(va[i], vb[i]); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return cmp.Compare(a.CS, b.CS)
	}
}

func compareSortValue(a, b any) int {
	rank := func(v any) int {
		switch v.(type) {
		case nil:
			return 0
		case int64, int32, float64:
			return 1
		}
		return 2
	}
	if ra, rb := rank(a), rank(b); ra != rb || ra == 0 {
		return cmp.Compare(ra, rb)
	}
	c, _ := compareValues(a, b)
	return c
}
