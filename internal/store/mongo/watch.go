package mongo

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// On a replica set or sharded cluster, a change stream on the resource
// collections fires the commit signal for every process's commits, so a
// subscription event written through another process goes out as soon
// as one written through this one. A standalone server and FerretDB have
// no change streams: there the dispatcher's polling (every second) finds
// other processes' commits.

// watchCommits runs until ctx ends, reopening the stream after an error.
func (s *Store) watchCommits(ctx context.Context, log *slog.Logger) {
	defer close(s.watchDone)
	// A resource document written is a commit made visible (commit.go,
	// step 4); claims in versions are not visible yet.
	pipeline := mongo.Pipeline{{{Key: "$match", Value: bson.D{
		{Key: "ns.coll", Value: bson.D{{Key: "$regex", Value: "^" + resourcesPrefix}}},
		{Key: "operationType", Value: bson.D{{Key: "$in", Value: bson.A{"insert", "replace", "update"}}}},
	}}}, {{Key: "$project", Value: bson.D{{Key: "_id", Value: 1}}}}}
	for ctx.Err() == nil {
		cs, err := s.db.Watch(ctx, pipeline)
		if err == nil {
			for cs.Next(ctx) {
				s.signal.Fire()
			}
			err = cs.Err()
			_ = cs.Close(context.WithoutCancel(ctx))
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("mongo: the change stream of commits stopped; other processes' commits are found by polling until it reopens", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
