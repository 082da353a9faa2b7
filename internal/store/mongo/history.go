package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/store"
)

// History returns versions newest first, in sequence order, from the
// versions collection. A page continues below the last sequence number
// the previous one returned, so new commits never shift it.
func (s *Store) History(ctx context.Context, q store.HistoryQuery) (store.HistoryPage, error) {
	var page store.HistoryPage
	if q.Count < 1 {
		return page, fmt.Errorf("mongo: history page size %d, want at least 1", q.Count)
	}
	if q.ID != "" && q.Type == "" {
		return page, errors.New("mongo: history of an id needs its type")
	}
	before := int64(math.MaxInt64)
	if q.Cursor != "" {
		var err error
		if before, err = decodeHistoryCursor(q.Cursor); err != nil {
			return page, err
		}
	}
	if err := s.gate.enter(); err != nil {
		return page, err
	}
	defer s.gate.leave()

	filter := bson.D{}
	if q.Type != "" {
		filter = append(filter, bson.E{Key: "type", Value: q.Type})
	}
	if q.ID != "" {
		filter = append(filter, bson.E{Key: "id", Value: q.ID})
	}
	filter = append(filter, bson.E{Key: "seq", Value: bson.D{{Key: "$lt", Value: before}}})
	lu := bson.D{}
	if !q.Since.IsZero() {
		lu = append(lu, bson.E{Key: "$gte", Value: toMicros(q.Since)})
	}
	if !q.AtHi.IsZero() {
		lu = append(lu, bson.E{Key: "$lt", Value: toMicros(q.AtHi)})
	}
	if len(lu) > 0 {
		filter = append(filter, bson.E{Key: "lu", Value: lu})
	}
	if !q.AtLo.IsZero() {
		// Current at some moment after AtLo: never superseded, or after it.
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "sup", Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "sup", Value: bson.D{{Key: "$gt", Value: toMicros(q.AtLo)}}}},
		}})
	}
	cur, err := s.ver.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: "seq", Value: -1}}).
		SetProjection(withPendFlag(versionFields)).
		SetBatchSize(int32(min(q.Count+1, 1000))))
	if err != nil {
		return page, fmt.Errorf("mongo: history: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var last int64 // the sequence number of the page's last version
	for cur.Next(ctx) {
		var d versionDoc
		if err := cur.Decode(&d); err != nil {
			return page, fmt.Errorf("mongo: history: %w", err)
		}
		if d.Pend != nil {
			if ok, err := s.reached(ctx, &d); err != nil {
				return page, err
			} else if !ok {
				continue // claimed, not committed (yet)
			}
		}
		if len(page.Versions) == q.Count {
			// One more version proves there is a next page.
			page.Next = encodeHistoryCursor(last)
			break
		}
		page.Versions = append(page.Versions, d.version())
		last = d.Seq
	}
	if err := cur.Err(); err != nil {
		return page, fmt.Errorf("mongo: history: %w", err)
	}
	return page, nil
}

// A history cursor is the sequence number of the last version a page
// returned. The prefix names the format and catches cursors from
// elsewhere (the SQLite backend's, a search's).
const historyCursorPrefix = "mh1:"

func encodeHistoryCursor(seq int64) string {
	return store.EncodeSeqCursor(historyCursorPrefix, seq)
}

func decodeHistoryCursor(c string) (int64, error) {
	return store.DecodeSeqCursor(historyCursorPrefix, c)
}
