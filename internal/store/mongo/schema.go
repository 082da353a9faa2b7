package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	resourcesColl = "resources"
	versionsColl  = "versions"
	metaColl      = "meta"
)

// SchemaVersion is the layout of documents and indexes this code writes.
// Open records it and refuses a database a newer version wrote.
// 2: sequence numbers claimed, not counted (seq.go); delivery state.
const SchemaVersion = 2

// schemaDoc is the meta collection's document of the schema version.
const schemaDoc = "schema"

// codeNamespaceNotFound is the server's error code for a missing collection.
const codeNamespaceNotFound = 26

// index is one index this schema needs.
type index struct {
	coll   string
	name   string
	keys   bson.D
	unique bool
	// wildcard indexes exist on MongoDB only: FerretDB accepts the spec,
	// then fails every insert.
	wildcard bool
}

// indexes are created at Open when missing, by name, so a second Open (or
// a second server process) changes nothing.
var indexes = []index{
	// The search index: every predicate is a condition on one path under
	// x (index.go); one compound wildcard index serves all of them with
	// the type (MongoDB 7.0 and later).
	{coll: resourcesColl, name: "type_x", keys: bson.D{{Key: "type", Value: 1}, {Key: "x.$**", Value: 1}}, wildcard: true},
	// The default order (creation) within a type, and across types.
	{coll: resourcesColl, name: "type_cs", keys: bson.D{{Key: "type", Value: 1}, {Key: "cs", Value: 1}}},
	{coll: resourcesColl, name: "cs", keys: bson.D{{Key: "cs", Value: 1}}},
	// Who refers to a resource: _revinclude=*, compartments.
	{coll: resourcesColl, name: "refs", keys: bson.D{{Key: "refs", Value: 1}}},
	{coll: resourcesColl, name: "blob", keys: bson.D{{Key: "br", Value: 1}}},

	// History of the system, a type, an instance, newest first. One
	// version per sequence number; one per version number is the _id's.
	{coll: versionsColl, name: "seq", keys: bson.D{{Key: "seq", Value: -1}}, unique: true},
	{coll: versionsColl, name: "type_seq", keys: bson.D{{Key: "type", Value: 1}, {Key: "seq", Value: -1}}},
	{coll: versionsColl, name: "type_id_seq", keys: bson.D{{Key: "type", Value: 1}, {Key: "id", Value: 1}, {Key: "seq", Value: -1}}},
	// Blob references (a partial index on br would be smaller, but
	// FerretDB has none).
	{coll: versionsColl, name: "blob", keys: bson.D{{Key: "br", Value: 1}}},

	// Subscription delivery (deliveries.go): a subscription's events in
	// number order, its owners newest first, the steps not yet applied.
	{coll: eventsColl, name: "sub_n", keys: bson.D{{Key: "sub", Value: 1}, {Key: "n", Value: 1}}},
	{coll: ownersColl, name: "sub_v", keys: bson.D{{Key: "sub", Value: 1}, {Key: "v", Value: -1}}},
	{coll: stepsColl, name: "done", keys: bson.D{{Key: "done", Value: 1}}},
}

// indexedColls are the collections with indexes of their own.
var indexedColls = []string{resourcesColl, versionsColl, eventsColl, ownersColl, stepsColl}

// migrate checks the recorded schema version, creates what is missing and
// records this one.
func (s *Store) migrate(ctx context.Context) error {
	var rec struct {
		Version int `bson:"version"`
	}
	err := s.meta.FindOne(ctx, bson.D{{Key: "_id", Value: schemaDoc}}).Decode(&rec)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return fmt.Errorf("mongo: read schema version: %w", err)
	case rec.Version > SchemaVersion:
		return fmt.Errorf("mongo: database %s has schema version %d, newer than this server's %d: upgrade the server",
			s.db.Name(), rec.Version, SchemaVersion)
	}
	if err := s.ensureIndexes(ctx); err != nil {
		return err
	}
	// Written after the indexes, so a recorded version means they exist.
	_, err = s.meta.UpdateOne(ctx, bson.D{{Key: "_id", Value: schemaDoc}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: SchemaVersion}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: record schema version: %w", err)
	}
	return nil
}

// ensureIndexes creates the indexes that do not exist yet, one at a time
// (FerretDB drops the connection when a batch repeats an existing index).
func (s *Store) ensureIndexes(ctx context.Context) error {
	have := map[string]map[string]bool{}
	for _, coll := range indexedColls {
		names, err := s.indexNames(ctx, coll)
		if err != nil {
			return err
		}
		have[coll] = names
	}
	for _, ix := range indexes {
		if have[ix.coll][ix.name] || (ix.wildcard && !s.server.wildcardIndexes()) {
			continue
		}
		o := options.Index().SetName(ix.name)
		if ix.unique {
			o.SetUnique(true)
		}
		if _, err := s.db.Collection(ix.coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o}); err != nil {
			return fmt.Errorf("mongo: create index %s.%s: %w", ix.coll, ix.name, err)
		}
	}
	return nil
}

// indexNames lists a collection's index names (none when it does not
// exist yet).
func (s *Store) indexNames(ctx context.Context, coll string) (map[string]bool, error) {
	cur, err := s.db.Collection(coll).Indexes().List(ctx)
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Code == codeNamespaceNotFound {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: list indexes of %s: %w", coll, err)
	}
	var specs []struct {
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &specs); err != nil {
		return nil, fmt.Errorf("mongo: list indexes of %s: %w", coll, err)
	}
	out := make(map[string]bool, len(specs))
	for _, sp := range specs {
		out[sp.Name] = true
	}
	return out, nil
}

// wildcardIndexes reports whether the server has compound wildcard
// indexes (MongoDB 7.0 and later; not FerretDB).
func (si serverInfo) wildcardIndexes() bool {
	return !si.ferret && len(si.version) > 0 && si.version[0] >= 7
}
