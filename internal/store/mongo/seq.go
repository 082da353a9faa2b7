package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Sequence numbers order the commit log (Changes), history and its
// cursors. They are not taken from a counter: a number taken and not yet
// written would be invisible to a reader of the log, who could then pass
// it and miss its version. Instead a version's sequence number is decided
// by inserting its claim (commit.go, step 3) under the unique index on
// seq, trying one past the highest number known to exist. So a number
// exists only as a claim, a pending claim is a marker readers stop at
// (changes.go), and seq n+1 is never written before seq n exists: a
// reader that sees n+1 finds n too (unless n's claim was withdrawn, which
// only happens to a claim that was never visible or, in a non-atomic
// commit's undo, one the commit takes back).
//
// Within a process, claims are inserted one at a time (seqMu), in
// number order; across processes, the loser of a race on a number gets a
// duplicate-key error, reads the highest number and tries the next.

// claimVersion inserts the claim mk(seq) with the next free sequence
// number. taken is non-nil when the claim's version was claimed by
// someone else (its _id exists): the change conflicts.
func (s *Store) claimVersion(ctx context.Context, key string, mk func(seq int64) versionDoc) (claim versionDoc, taken *versionDoc, err error) {
	s.seqMu.Lock()
	defer s.seqMu.Unlock()
	if !s.seqKnown {
		if s.lastSeq, err = s.highestSeq(ctx); err != nil {
			return claim, nil, err
		}
		s.seqKnown = true
	}
	for attempt := 0; ; attempt++ {
		claim = mk(s.lastSeq + 1)
		_, err = s.ver.InsertOne(ctx, claim)
		if err == nil {
			s.lastSeq = claim.Seq
			return claim, nil, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return claim, nil, fmt.Errorf("mongo: claim %s: %w", key, err)
		}
		// The version was claimed, or the number was taken by another
		// process.
		if taken, err = s.claimOf(ctx, claim.Key); err != nil || taken != nil {
			return claim, taken, err
		}
		if attempt == 100 {
			return claim, nil, fmt.Errorf("mongo: claim %s: no free sequence number after %d tries", key, attempt)
		}
		high, err := s.highestSeq(ctx)
		if err != nil {
			return claim, nil, err
		}
		s.lastSeq = max(high, s.lastSeq+1)
	}
}

// highestSeq is the highest sequence number claimed (0 when none).
func (s *Store) highestSeq(ctx context.Context) (int64, error) {
	var d struct {
		Seq int64 `bson:"seq"`
	}
	err := s.ver.FindOne(ctx, bson.D{}, options.FindOne().
		SetSort(bson.D{{Key: "seq", Value: -1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mongo: highest sequence number: %w", err)
	}
	return d.Seq, nil
}
