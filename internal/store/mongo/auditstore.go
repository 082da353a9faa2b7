package mongo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// The audit trail's events (auditstore.Store), shared by every server
// process on the database, so that AuditEvent searches on any process see
// what all of them recorded.
//
// The collection is append-only as far as this code goes: there is an
// insert and there are queries, nothing that updates or deletes. An
// event's _id is an ObjectID the writing process makes (a timestamp, a
// per-process random value and a counter): unique across processes
// without a shared sequence, which FerretDB could not make atomic anyway.
// The trail encrypts it into the AuditEvent id. Events order by
// (recorded, _id), the pages' order.
const (
	auditEventsColl = "audit_events"
	// auditMetaColl holds one document, the key of AuditEvent ids.
	auditMetaColl = "audit_meta"
	auditKeyDoc   = "id_key"
	auditKeySize  = 32 // AES-256
)

// auditEvent is an event as stored. The field names are auditstore's
// Field names, which conditions refer to.
type auditEvent struct {
	ID        bson.ObjectID `bson:"_id"`
	Recorded  int64         `bson:"recorded"` // µs since the Unix epoch: the trail's precision
	Started   int64         `bson:"started"`
	Action    string        `bson:"action"`
	Type      string        `bson:"type"`
	Status    int64         `bson:"status"`
	Client    string        `bson:"client"`
	Subject   string        `bson:"subject"`
	Who       string        `bson:"who"`
	Patient   string        `bson:"patient"`
	Source    string        `bson:"source"`
	RequestID string        `bson:"request_id"`
	Detail    string        `bson:"detail"`
	Entities  []string      `bson:"entities,omitempty"`
}

// auditIndexes serve the paging order (every search sorts by recorded,
// _id) and the searches by resource, patient, user and client; the others
// (action, outcome, address...) filter what those read.
var auditIndexes = []index{
	{name: "recorded", keys: bson.D{{Key: "recorded", Value: 1}, {Key: "_id", Value: 1}}},
	{name: "entities", keys: bson.D{{Key: "entities", Value: 1}, {Key: "recorded", Value: 1}}},
	{name: "patient", keys: bson.D{{Key: "patient", Value: 1}, {Key: "recorded", Value: 1}}},
	{name: "who", keys: bson.D{{Key: "who", Value: 1}, {Key: "recorded", Value: 1}}},
	{name: "client", keys: bson.D{{Key: "client", Value: 1}, {Key: "recorded", Value: 1}}},
}

// AuditStore is the Store's auditstore.Store.
type AuditStore struct {
	s      *Store
	events *mongo.Collection
	key    []byte
}

var _ auditstore.Store = (*AuditStore)(nil)

// AuditStore returns the audit trail's storage in this database, creating
// its indexes and id key when missing.
func (s *Store) AuditStore(ctx context.Context) (*AuditStore, error) {
	a := &AuditStore{s: s, events: s.db.Collection(auditEventsColl)}
	err := a.op(func() error {
		if err := s.ensureIndexesOf(ctx, auditEventsColl, auditIndexes); err != nil {
			return err
		}
		var err error
		a.key, err = a.idKey(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *AuditStore) op(f func() error) error {
	if err := a.s.gate.enter(); err != nil {
		return err
	}
	defer a.s.gate.leave()
	return f()
}

// idKey reads the id key, creating it in a new database: the first
// process to insert it wins, the others read the winner's.
func (a *AuditStore) idKey(ctx context.Context) ([]byte, error) {
	meta := a.s.db.Collection(auditMetaColl)
	var doc struct {
		Key []byte `bson:"key"`
	}
	filter := bson.D{{Key: "_id", Value: auditKeyDoc}}
	err := meta.FindOne(ctx, filter).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		key := make([]byte, auditKeySize)
		_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
		_, err = meta.InsertOne(ctx, bson.D{{Key: "_id", Value: auditKeyDoc}, {Key: "key", Value: key}})
		if mongo.IsDuplicateKeyError(err) {
			err = meta.FindOne(ctx, filter).Decode(&doc)
		} else if err == nil {
			doc.Key = key
		}
	}
	if err != nil {
		return nil, fmt.Errorf("mongo: audit id key: %w", err)
	}
	if len(doc.Key) != auditKeySize {
		return nil, fmt.Errorf("mongo: the stored audit id key has %d bytes, want %d", len(doc.Key), auditKeySize)
	}
	return doc.Key, nil
}

func (a *AuditStore) IDKey() []byte { return a.key }

// Close does nothing: the database is the Store's, closed with it.
func (a *AuditStore) Close() error { return nil }

// Append inserts the rows, unordered, giving each row without a key a new
// ObjectID. A retried batch has the keys of the first attempt: the rows
// that attempt wrote fail as duplicates, which is success.
func (a *AuditStore) Append(ctx context.Context, rows []auditstore.Row) error {
	docs := make([]any, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.Key == "" {
			id := bson.NewObjectID()
			r.Key = string(id[:])
		}
		id, _ := objectID(r.Key)
		docs[i] = auditEvent{ID: id, Recorded: r.Recorded, Started: r.Started, Action: r.Action, Type: r.Type,
			Status: int64(r.Status), Client: r.Client, Subject: r.Subject, Who: r.Who, Patient: r.Patient,
			Source: r.Source, RequestID: r.RequestID, Detail: r.Detail, Entities: r.Entities}
	}
	if len(docs) == 0 {
		return nil
	}
	return a.op(func() error {
		_, err := a.events.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err != nil && !onlyDuplicates(err) {
			return fmt.Errorf("mongo: insert audit events: %w", err)
		}
		return nil
	})
}

// onlyDuplicates reports whether every write error of an insert is a
// duplicate _id.
func onlyDuplicates(err error) bool {
	var bw mongo.BulkWriteException
	if !errors.As(err, &bw) || bw.WriteConcernError != nil || len(bw.WriteErrors) == 0 {
		return false
	}
	for _, we := range bw.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}

func (a *AuditStore) Get(ctx context.Context, key string) (auditstore.Row, bool, error) {
	id, ok := objectID(key)
	if !ok {
		return auditstore.Row{}, false, nil
	}
	var e auditEvent
	err := a.op(func() error { return a.events.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e) })
	if errors.Is(err, mongo.ErrNoDocuments) {
		return auditstore.Row{}, false, nil
	}
	if err != nil {
		return auditstore.Row{}, false, fmt.Errorf("mongo: read audit event: %w", err)
	}
	return e.row(), true, nil
}

// Page reads in (recorded, _id) order from after.
func (a *AuditStore) Page(ctx context.Context, c auditstore.Cond, after *auditstore.Position, ascending bool, limit int) ([]auditstore.Row, error) {
	filter := auditFilter(c)
	dir, cmp := -1, "$lt"
	if ascending {
		dir, cmp = 1, "$gt"
	}
	if after != nil {
		id, ok := objectID(after.Key)
		if !ok {
			return nil, nil // not a position in this store: nothing follows it
		}
		filter = bson.D{{Key: "$and", Value: bson.A{filter, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "recorded", Value: bson.D{{Key: cmp, Value: after.Recorded}}}},
			bson.D{{Key: "recorded", Value: after.Recorded}, {Key: "_id", Value: bson.D{{Key: cmp, Value: id}}}},
		}}}}}}
	}
	o := options.Find().SetSort(bson.D{{Key: "recorded", Value: dir}, {Key: "_id", Value: dir}}).SetLimit(int64(limit))
	var out []auditstore.Row
	err := a.op(func() error {
		cur, err := a.events.Find(ctx, filter, o)
		if err != nil {
			return err
		}
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			var e auditEvent
			if err := cur.Decode(&e); err != nil {
				return err
			}
			out = append(out, e.row())
		}
		return cur.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("mongo: search audit events: %w", err)
	}
	return out, nil
}

func (a *AuditStore) Count(ctx context.Context, c auditstore.Cond) (int, error) {
	var n int64
	err := a.op(func() error {
		var err error
		n, err = a.events.CountDocuments(ctx, auditFilter(c))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mongo: count audit events: %w", err)
	}
	return int(n), nil
}

func (e *auditEvent) row() auditstore.Row {
	return auditstore.Row{Key: string(e.ID[:]), Recorded: e.Recorded, Started: e.Started, Action: e.Action, Type: e.Type,
		Status: int(e.Status), Client: e.Client, Subject: e.Subject, Who: e.Who, Patient: e.Patient,
		Source: e.Source, RequestID: e.RequestID, Detail: e.Detail, Entities: e.Entities}
}

// objectID is the ObjectID of a key; false for a key of another store.
func objectID(key string) (bson.ObjectID, bool) {
	var id bson.ObjectID
	if len(key) != len(id) {
		return id, false
	}
	copy(id[:], key)
	return id, true
}

// auditFilter translates a condition into a query filter: equality, $in
// (on the entities array too), ranges, anchored or plain case-insensitive
// $regex, $and, $or and $nor.
func auditFilter(c auditstore.Cond) bson.D {
	switch c.Kind {
	case auditstore.KindAll:
		return bson.D{}
	case auditstore.KindNone:
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$exists", Value: false}}}}
	case auditstore.KindAnd, auditstore.KindOr, auditstore.KindNot:
		op := map[auditstore.Kind]string{auditstore.KindAnd: "$and", auditstore.KindOr: "$or", auditstore.KindNot: "$nor"}[c.Kind]
		kids := bson.A{}
		for _, k := range c.Kids {
			kids = append(kids, auditFilter(k))
		}
		if len(kids) == 0 {
			return auditFilter(auditstore.Simplify(c))
		}
		return bson.D{{Key: op, Value: kids}}
	case auditstore.KindKey:
		id, ok := objectID(c.Values[0])
		if !ok {
			return auditFilter(auditstore.None)
		}
		return bson.D{{Key: "_id", Value: id}}
	case auditstore.KindRange:
		var r bson.D
		if c.Lo != math.MinInt64 {
			r = append(r, bson.E{Key: "$gte", Value: c.Lo})
		}
		if c.Hi != math.MaxInt64 {
			r = append(r, bson.E{Key: "$lt", Value: c.Hi})
		}
		if len(r) == 0 {
			return bson.D{}
		}
		return bson.D{{Key: string(c.Field), Value: r}}
	case auditstore.KindIn:
		return inFilter(string(c.Field), c.Values)
	case auditstore.KindPrefix:
		return regexFilter(string(c.Field), "^"+regexp.QuoteMeta(c.Values[0]))
	case auditstore.KindContains:
		return regexFilter(string(c.Field), regexp.QuoteMeta(c.Values[0]))
	case auditstore.KindRefers:
		var or bson.A
		var patients []string
		for _, ref := range c.Values {
			if p, ok := strings.CutPrefix(ref, "Patient/"); ok { // the patient in context is an entity too
				patients = append(patients, p)
			}
		}
		if len(c.Values) > 0 {
			or = append(or, inFilter("entities", c.Values))
		}
		if len(patients) > 0 {
			or = append(or, inFilter("patient", patients))
		}
		if len(c.Who) > 0 {
			or = append(or, inFilter("who", c.Who))
		}
		switch len(or) {
		case 0:
			return auditFilter(auditstore.None)
		case 1:
			return or[0].(bson.D)
		}
		return bson.D{{Key: "$or", Value: or}}
	}
	panic(fmt.Sprintf("mongo: audit condition kind %d", c.Kind))
}

func inFilter(field string, values []string) bson.D {
	if len(values) == 1 {
		return bson.D{{Key: field, Value: values[0]}}
	}
	return bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: values}}}}
}

func regexFilter(field, pattern string) bson.D {
	return bson.D{{Key: field, Value: bson.D{{Key: "$regex", Value: pattern}, {Key: "$options", Value: "i"}}}}
}
