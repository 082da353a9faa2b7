package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// Search answers q from the resource documents' index. Pages are keyset-
// paged on the sort keys and the creation sequence number, so a next link
// stays valid, and shows every match once, while others write.
func (s *Store) Search(ctx context.Context, q *search.Query) (store.SearchPage, error) {
	page := store.SearchPage{Total: -1}
	if err := s.gate.enter(); err != nil {
		return page, err
	}
	defer s.gate.leave()
	t := &translator{s: s, ctx: ctx}
	n, err := t.query(q)
	if err != nil {
		return page, err
	}
	keys, err := sortKeys(q.Sort)
	if err != nil {
		return page, err
	}
	fingerprint, err := queryFingerprint(q)
	if err != nil {
		return page, err
	}
	var after bson.D
	if q.Cursor != "" {
		last, err := decodeSearchCursor(q.Cursor, fingerprint, len(keys))
		if err != nil {
			return page, err
		}
		after = keysetAfter(keys, last)
	}

	if q.Total == "accurate" || q.Total == "estimate" || q.Count == 0 {
		if page.Total, err = s.count(ctx, n); err != nil {
			return page, err
		}
	}
	if q.Count <= 0 {
		return page, nil
	}

	sortSpec := bson.D{}
	for _, k := range keys {
		sortSpec = append(sortSpec, bson.E{Key: k.path, Value: k.dir()})
	}
	sortSpec = append(sortSpec, bson.E{Key: "cs", Value: 1})
	var docs []resourceDoc
	opts := options.Find().SetSort(sortSpec).SetBatchSize(int32(min(q.Count+1, 1000)))
	if !needsEval(n) {
		opts.SetLimit(int64(q.Count + 1))
	}
	err = s.scanAfter(ctx, n, after, opts, compareSorted(keys), func(d *resourceDoc) bool {
		docs = append(docs, *d)
		return len(docs) <= q.Count
	})
	if err != nil {
		return page, err
	}
	if len(docs) > q.Count {
		docs = docs[:q.Count]
		page.Next = encodeSearchCursor(fingerprint, cursorValues(keys, &docs[len(docs)-1]))
	}
	if q.Cursor == "" && page.Next == "" {
		page.Total = len(docs) // everything is on this page
	}
	for i := range docs {
		page.Matches = append(page.Matches, docs[i].version())
	}
	if len(q.Include) > 0 || len(q.RevInclude) > 0 {
		if page.Included, err = s.includes(ctx, q, docs); err != nil {
			return store.SearchPage{Total: -1}, err
		}
	}
	return page, nil
}

// scan runs n's filter and calls fn with each document that matches, in
// any order (type by type), until fn returns false.
func (s *Store) scan(ctx context.Context, n node, opts *options.FindOptionsBuilder, fn func(*resourceDoc) bool) error {
	return s.scanAfter(ctx, n, nil, opts, nil, fn)
}

// scanAfter is scan of what sorts after the keyset after; with order (the
// order opts sorts in), the matches of several types come merged in it.
func (s *Store) scanAfter(ctx context.Context, n node, after bson.D, opts *options.FindOptionsBuilder,
	order func(a, b *resourceDoc) int, fn func(*resourceDoc) bool) error {
	filter := n.render()
	if after != nil {
		filter = bson.D{{Key: "$and", Value: bson.A{filter, after}}}
	}
	colls, err := s.collectionsOf(ctx, n)
	if err != nil {
		return err
	}
	check := needsEval(n)
	var evalFailed error
	// each decides one candidate: false stops the scan.
	each := func(d *resourceDoc) bool {
		if check && !n.eval(d) {
			evalFailed = evalErr(n)
			return evalFailed == nil
		}
		return fn(d)
	}
	if order == nil || len(colls) < 2 {
		if err := findAll(ctx, colls, filter, opts, each); err != nil {
			return searchError(err)
		}
		return evalFailed
	}
	m := &merged{ctx: ctx, less: order}
	defer m.close()
	for _, c := range colls {
		cur, err := c.Find(ctx, filter, opts)
		if err != nil {
			return searchError(err)
		}
		m.curs, m.heads = append(m.curs, cur), append(m.heads, nil)
		m.advance(len(m.curs) - 1)
	}
	for d := m.next(); d != nil; d = m.next() {
		if !each(d) {
			return evalFailed
		}
	}
	return searchError(m.err)
}

func searchError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mongo: search: %w", err)
}

// count counts n's matches: by the server when its filter is exact, else
// by deciding each candidate.
func (s *Store) count(ctx context.Context, n node) (int, error) {
	if !needsEval(n) {
		colls, err := s.collectionsOf(ctx, n)
		if err != nil {
			return 0, err
		}
		filter, total := n.render(), 0
		for _, c := range colls {
			k, err := c.CountDocuments(ctx, filter)
			if err != nil {
				return 0, fmt.Errorf("mongo: count: %w", err)
			}
			total += int(k)
		}
		return total, nil
	}
	total := 0
	proj := bson.D{{Key: "_id", Value: 1}, {Key: "type", Value: 1}, {Key: "x", Value: 1}, {Key: "mv", Value: 1}, {Key: "vx", Value: 1}}
	err := s.scan(ctx, n, options.Find().SetProjection(proj), func(*resourceDoc) bool { total++; return true })
	return total, err
}

// sortPath is one _sort key as a document path.
type sortPath struct {
	field, path string
	desc        bool
}

func (k sortPath) dir() int {
	if k.desc {
		return -1
	}
	return 1
}

// sortKeys: a key sorts on the parameter's lowest value ascending and its
// highest descending (index.go); a resource without one sorts as the
// lowest (MongoDB orders a missing field first), and ties go by creation.
func sortKeys(keys []search.SortKey) ([]sortPath, error) {
	out := make([]sortPath, 0, len(keys))
	for _, k := range keys {
		if k.Param == nil {
			return nil, fmt.Errorf("mongo: sort key without a parameter")
		}
		switch k.Param.Type {
		case search.String, search.Token, search.Date, search.Number, search.Quantity, search.Reference, search.URI:
		default:
			return nil, unsupported("cannot sort on %s parameter %s", k.Param.Type, k.Param.Code)
		}
		f := fieldName(k.Param.Code)
		end := "a"
		if k.Descending {
			end = "d"
		}
		out = append(out, sortPath{field: f, path: "sk." + f + "." + end, desc: k.Descending})
	}
	return out, nil
}

// cursorValues are a document's sort key values (nil when missing) and
// its creation sequence number.
func cursorValues(keys []sortPath, d *resourceDoc) []any {
	out := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		sk, ok := d.SK[k.field]
		switch {
		case !ok:
			out = append(out, nil)
		case k.desc:
			out = append(out, sk.D)
		default:
			out = append(out, sk.A)
		}
	}
	return append(out, d.CS)
}

// keysetAfter selects what sorts after last: for some i, equal on the
// first i keys and after on key i. A missing value sorts lowest.
func keysetAfter(keys []sortPath, last []any) bson.D {
	missing := func(path string) bson.D {
		return bson.D{{Key: path, Value: bson.D{{Key: "$exists", Value: false}}}}
	}
	equal := func(path string, v any) bson.D {
		if v == nil {
			return missing(path)
		}
		return bson.D{{Key: path, Value: v}}
	}
	// afterOne is nil when nothing sorts after v.
	afterOne := func(k sortPath, v any) bson.D {
		switch {
		case v == nil && k.desc:
			return nil
		case v == nil:
			return bson.D{{Key: k.path, Value: bson.D{{Key: "$exists", Value: true}}}}
		case k.desc:
			return bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: k.path, Value: bson.D{{Key: "$lt", Value: v}}}}, missing(k.path)}}}
		}
		return bson.D{{Key: k.path, Value: bson.D{{Key: "$gt", Value: v}}}}
	}
	all := append(append([]sortPath(nil), keys...), sortPath{path: "cs"})
	var alts bson.A
	for i, k := range all {
		branch := bson.A{}
		for j := 0; j < i; j++ {
			branch = append(branch, equal(all[j].path, last[j]))
		}
		a := afterOne(k, last[i])
		if a == nil {
			continue
		}
		branch = append(branch, a)
		alts = append(alts, bson.D{{Key: "$and", Value: branch}})
	}
	return bson.D{{Key: "$or", Value: alts}}
}

// queryFingerprint ties a cursor to the search that made it: what selects
// and orders the matches (not the results of its chains, which may change
// between pages).
func queryFingerprint(q *search.Query) (string, error) {
	b, err := json.Marshal(struct {
		Type        string
		Types       []string
		Compartment *search.Compartment
		Where       []search.Clause
		Sort        []search.SortKey
	}{q.Type, q.Types, q.Compartment, q.Where, q.Sort})
	if err != nil {
		return "", fmt.Errorf("mongo: fingerprint a search: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12]), nil
}

// A search cursor is the fingerprint and the last match's sort values and
// creation sequence number, as canonical Extended JSON, which keeps their
// BSON types.
func encodeSearchCursor(fingerprint string, last []any) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "q", Value: fingerprint}, {Key: "k", Value: bson.A(last)}}, true, false)
	if err != nil {
		panic(err) // strings, numbers and nulls always encode
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(c, fingerprint string, nkeys int) ([]any, error) {
	bad := fmt.Errorf("%w: not a cursor of this search", store.ErrBadCursor)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var cur struct {
		Q string `bson:"q"`
		K bson.A `bson:"k"`
	}
	if err := bson.UnmarshalExtJSON(raw, true, &cur); err != nil || cur.Q != fingerprint || len(cur.K) != nkeys+1 {
		return nil, bad
	}
	if _, ok := cur.K[nkeys].(int64); !ok {
		return nil, bad
	}
	for _, v := range cur.K[:nkeys] {
		switch v.(type) {
		case nil, string, int64, float64:
		default:
			return nil, bad
		}
	}
	return cur.K, nil
}

func isNoDocuments(err error) bool { return errors.Is(err, mongo.ErrNoDocuments) }
