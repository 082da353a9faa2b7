package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	versionsColl = "versions"
	metaColl     = "meta"
	// oneResourcesColl held every type's resource documents up to schema
	// version 2; migrate moves them to their types' collections.
	oneResourcesColl = "resources"
)

// SchemaVersion is the layout of documents and indexes this code writes.
// Open records it and refuses a database a newer version wrote.
// 2: sequence numbers claimed, not counted (seq.go); delivery state.
// 3: a collection of resource documents per type (collections.go).
const SchemaVersion = 3

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
var indexedColls = []string{versionsColl, eventsColl, ownersColl, stepsColl}

// resourceIndexes are each type's collection's (coll is left out):
// created when a process first writes the type (ensureTypes).
var resourceIndexes = []index{
	// The search index: every predicate is a condition on one path under
	// x (index.go); one wildcard index serves all of them (MongoDB 4.2
	// and later).
	{name: "x", keys: bson.D{{Key: "x.$**", Value: 1}}, wildcard: true},
	// The default order: creation.
	{name: "cs", keys: bson.D{{Key: "cs", Value: 1}}},
	// Who refers to a resource: _revinclude=*, compartments.
	{name: "refs", keys: bson.D{{Key: "refs", Value: 1}}},
	{name: "blob", keys: bson.D{{Key: "br", Value: 1}}},
}

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
	if err := s.splitResources(ctx); err != nil {
		return err
	}
	// Every type's collection that exists gets its indexes now too (one
	// this version adds, or one an operator dropped), not only at this
	// process's first write of the type.
	types, err := s.storedTypes(ctx)
	if err != nil {
		return err
	}
	if err := s.ensureTypes(ctx, types); err != nil {
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

// ensureIndexes creates the shared collections' indexes that do not
// exist yet.
func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, coll := range indexedColls {
		var mine []index
		for _, ix := range indexes {
			if ix.coll == coll {
				mine = append(mine, ix)
			}
		}
		if err := s.ensureIndexesOf(ctx, coll, mine); err != nil {
			return err
		}
	}
	return nil
}

// ensureIndexesOf creates the collection's indexes that do not exist yet,
// one at a time (FerretDB drops the connection when a batch repeats an
// existing index).
func (s *Store) ensureIndexesOf(ctx context.Context, coll string, ixs []index) error {
	have, err := s.indexNames(ctx, coll)
	if err != nil {
		return err
	}
	for _, ix := range ixs {
		if have[ix.name] || (ix.wildcard && !s.server.wildcardIndexes()) {
			continue
		}
		o := options.Index().SetName(ix.name)
		if ix.unique {
			o.SetUnique(true)
		}
		if _, err := s.db.Collection(coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o}); err != nil {
			return fmt.Errorf("mongo: create index %s.%s: %w", coll, ix.name, err)
		}
	}
	return nil
}

// splitResources moves the resource documents of a schema 2 database
// from its one collection to their types' (idempotently: a document
// already moved is skipped, so an interrupted move resumes), then drops
// the old collection.
func (s *Store) splitResources(ctx context.Context) error {
	old := s.db.Collection(oneResourcesColl)
	cur, err := old.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mongo: move resources to their types' collections: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	moved := 0
	for cur.Next(ctx) {
		var d resourceDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("mongo: move resources to their types' collections: %w", err)
		}
		if err := s.ensureTypes(ctx, []string{d.Type}); err != nil {
			return err
		}
		if _, err := s.resOf(d.Type).InsertOne(ctx, cur.Current); err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("mongo: move %s to its type's collection: %w", d.Key, err)
		}
		moved++
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("mongo: move resources to their types' collections: %w", err)
	}
	if moved == 0 {
		return nil
	}
	if err := old.Drop(ctx); err != nil {
		return fmt.Errorf("mongo: drop the old resources collection: %w", err)
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

// wildcardIndexes reports whether the server has wildcard indexes
// (MongoDB 4.2 and later; not FerretDB).
func (si serverInfo) wildcardIndexes() bool {
	v := append(slices.Clone(si.version), 0, 0)
	return !si.ferret && (v[0] > 4 || v[0] == 4 && v[1] >= 2)
}
