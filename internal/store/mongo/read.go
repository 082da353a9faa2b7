package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/store"
)

// Current reads the resource document: the current version, tombstone or
// not.
func (s *Store) Current(ctx context.Context, typ, id string) (*store.Version, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	var d resourceDoc
	err := s.resOf(typ).FindOne(ctx, bson.D{{Key: "_id", Value: resourceKey(typ, id)}},
		options.FindOne().SetProjection(versionFields)).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("%w: %s/%s", store.ErrNotFound, typ, id)
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: read %s/%s: %w", typ, id, err)
	}
	v := d.version()
	return &v, nil
}

// Version reads one version. A claimed version whose resource has not
// reached it yet (commit.go) does not exist for readers.
func (s *Store) Version(ctx context.Context, typ, id string, version int64) (*store.Version, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if version < 1 {
		return nil, fmt.Errorf("%w: %s/%s version %d", store.ErrNotFound, typ, id, version)
	}
	var d versionDoc
	err := s.ver.FindOne(ctx, bson.D{{Key: "_id", Value: versionKey(typ, id, version)}},
		options.FindOne().SetProjection(withPendFlag(versionFields))).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("%w: %s/%s version %d", store.ErrNotFound, typ, id, version)
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: read %s/%s version %d: %w", typ, id, version, err)
	}
	if d.Pend != nil {
		visible, err := s.reached(ctx, &d)
		if err != nil {
			return nil, err
		}
		if !visible {
			return nil, fmt.Errorf("%w: %s/%s version %d", store.ErrNotFound, typ, id, version)
		}
	}
	v := d.version()
	return &v, nil
}

// withPendFlag adds to a projection just enough of Pend to see it is set.
func withPendFlag(p bson.D) bson.D {
	return append(slices.Clone(p), bson.E{Key: "pend.cs", Value: 1})
}

// reached reports whether a claimed version's resource has reached it,
// which makes the version committed.
func (s *Store) reached(ctx context.Context, d *versionDoc) (bool, error) {
	r, err := s.resource(ctx, resourceKey(d.Type, d.ID), false)
	if err != nil {
		return false, err
	}
	return r != nil && r.V >= d.V, nil
}

// BlobReferenced looks for the ref in every version, and in the current
// ones (a version's document is written before its resource's, but a
// claim may still be finishing).
func (s *Store) BlobReferenced(ctx context.Context, ref string) (bool, error) {
	if err := s.gate.enter(); err != nil {
		return false, err
	}
	defer s.gate.leave()
	if ref == "" {
		return false, nil
	}
	types, err := s.storedTypes(ctx)
	if err != nil {
		return false, err
	}
	colls := []*mongo.Collection{s.ver}
	for _, t := range types {
		colls = append(colls, s.resOf(t))
	}
	for _, coll := range colls {
		n, err := coll.CountDocuments(ctx, bson.D{{Key: "br", Value: ref}}, options.Count().SetLimit(1))
		if err != nil {
			return false, fmt.Errorf("mongo: blob references: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// MetaInUse reads the distinct _tag and _security codings and _profile
// uris of the live resources of typ (every type when empty) from their
// index: only current versions have one.
func (s *Store) MetaInUse(ctx context.Context, typ string) (store.MetaSummary, error) {
	var sum store.MetaSummary
	if err := s.gate.enter(); err != nil {
		return sum, err
	}
	defer s.gate.leave()
	filter := bson.D{{Key: "del", Value: false}}
	types := []string{typ}
	if typ == "" {
		var err error
		if types, err = s.storedTypes(ctx); err != nil {
			return sum, err
		}
	}
	distinct := func(path string) ([]string, error) {
		var vals []string
		for _, t := range types {
			var some []string
			if err := s.resOf(t).Distinct(ctx, path, filter).Decode(&some); err != nil {
				return nil, fmt.Errorf("mongo: meta in use: %w", err)
			}
			vals = append(vals, some...)
		}
		slices.Sort(vals)
		return slices.Compact(vals), nil
	}
	codings := func(param string) ([]store.Coding, error) {
		keys, err := distinct("x." + param + "." + clSysCode)
		if err != nil {
			return nil, err
		}
		var out []store.Coding
		for _, k := range keys {
			if parts := splitKey(k); len(parts) == 2 {
				out = append(out, store.Coding{System: parts[0], Code: parts[1]})
			}
		}
		slices.SortFunc(out, func(a, b store.Coding) int {
			if c := strings.Compare(a.System, b.System); c != 0 {
				return c
			}
			return strings.Compare(a.Code, b.Code)
		})
		return out, nil
	}
	var err error
	if sum.Profiles, err = distinct("x._profile." + clURL); err != nil {
		return sum, err
	}
	if sum.Tags, err = codings("_tag"); err != nil {
		return sum, err
	}
	if sum.Security, err = codings("_security"); err != nil {
		return sum, err
	}
	if len(sum.Profiles) == 0 {
		sum.Profiles = nil
	}
	return sum, nil
}
