package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/store"
)

// Changes returns the versions committed after seq after, oldest first:
// the versions collection in sequence order, up to the first claim that
// is still pending (its resource has not reached it). A pending claim is
// a commit in flight; everything after it waits, so that a reader who
// has seen seq n never later finds a smaller one (seq.go says why no
// number can appear below a claim already written). A claim pending for
// longer than abandonAfter belongs to a crashed writer and is settled
// here, as the next writer of its resource would.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Committed, error) {
	if limit < 1 {
		return nil, fmt.Errorf("mongo: changes limit %d, want at least 1", limit)
	}
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	cur, err := s.ver.Find(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}}}}, options.Find().
		SetSort(bson.D{{Key: "seq", Value: 1}}).
		SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongo: changes: %w", err)
	}
	var docs []versionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: changes: %w", err)
	}
	out := make([]store.Committed, 0, len(docs))
	prev := after
	for i := range docs {
		d := &docs[i]
		if d.Seq != prev+1 {
			// A gap: a withdrawn claim, or (MongoDB reads without a
			// snapshot, and a query may yield) one the scan passed before
			// it was inserted. Only what is before it is certain.
			filled, err := s.anySeqBetween(ctx, prev, d.Seq)
			if err != nil {
				return nil, err
			}
			if filled {
				break
			}
		}
		prev = d.Seq
		if d.Pend != nil {
			visible, err := s.committed(ctx, d)
			if err != nil {
				return nil, err
			}
			if !visible {
				break
			}
		}
		out = append(out, store.Committed{Seq: d.Seq, Version: d.version()})
	}
	return out, nil
}

// anySeqBetween reports whether a version with a sequence number strictly
// between lo and hi exists.
func (s *Store) anySeqBetween(ctx context.Context, lo, hi int64) (bool, error) {
	n, err := s.ver.CountDocuments(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: lo}, {Key: "$lt", Value: hi}}}},
		options.Count().SetLimit(1))
	if err != nil {
		return false, fmt.Errorf("mongo: changes: %w", err)
	}
	return n > 0, nil
}

// committed decides a pending claim the log has reached: committed when
// its resource reached it; in flight (false) when not, unless abandoned,
// in which case it is settled and decided again.
func (s *Store) committed(ctx context.Context, d *versionDoc) (bool, error) {
	reached, err := s.reached(ctx, d)
	if err != nil || reached || !s.abandoned(d) {
		return reached, err
	}
	if err := s.settle(ctx, d); err != nil {
		return false, fmt.Errorf("mongo: settle the abandoned claim %s: %w", d.Key, err)
	}
	now, err := s.claimOf(ctx, d.Key)
	if err != nil || now == nil || now.Seq != d.Seq {
		// Withdrawn: a gap nobody saw. The caller stops here this time and
		// passes it next time.
		return false, err
	}
	return s.reached(ctx, now)
}

// CommitSignal returns a channel that is closed once a commit through
// this Store lands after the call.
func (s *Store) CommitSignal() <-chan struct{} { return s.signal.Wait() }
