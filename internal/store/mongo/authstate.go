package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/auth/authstate"
)

// The authorization server's state (authstate.State), shared by every
// server process on the database: signing keys, clients and users as
// versioned documents; revoked tokens, refresh tokens, codes, launches,
// sign-in transactions and client assertion ids as records with an
// expiry.
//
// Every race is decided by an insert under a unique _id, never by a
// conditional update, which FerretDB does not make atomic: a document's
// version n+1 is the document "name/n+1", written by whoever inserts it
// first; a record's single use is the insert of a marker record (the
// server's "-used" kinds).
const (
	authDocsColl    = "auth_docs"
	authRecordsColl = "auth_records"
)

// authDoc is one version of a document.
type authDoc struct {
	ID   string    `bson:"_id"` // name/version
	Name string    `bson:"name"`
	V    int64     `bson:"v"`
	Data []byte    `bson:"data"`
	At   time.Time `bson:"at"`
}

// authRecord is one record; _id is kind/key.
type authRecord struct {
	ID     string    `bson:"_id"`
	Kind   string    `bson:"kind"`
	Key    string    `bson:"key"`
	Data   []byte    `bson:"data"`
	Exp    time.Time `bson:"exp"`
	Labels []string  `bson:"labels,omitempty"`
}

// AuthState is the Store's authstate.State.
type AuthState struct {
	s          *Store
	docs, recs *mongo.Collection
	now        func() time.Time
	// ttl is false where the server has no TTL indexes: expired records
	// are then removed by the writers, at most once per sweepEvery.
	ttl     bool
	sweepMu sync.Mutex
	swept   time.Time
}

var _ authstate.State = (*AuthState)(nil)

const authSweepEvery = time.Minute

// AuthState returns the authorization server's state in this database,
// creating its collections' indexes when missing.
func (s *Store) AuthState(ctx context.Context) (*AuthState, error) {
	a := &AuthState{s: s, docs: s.db.Collection(authDocsColl), recs: s.db.Collection(authRecordsColl), now: time.Now}
	if err := a.ensureIndexes(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// ensureIndexes creates the indexes that do not exist yet, one at a time
// (as ensureIndexesOf does). The expiry's TTL index lets the server drop
// expired records; where it is refused, an ordinary index serves the
// writers' sweeps.
func (a *AuthState) ensureIndexes(ctx context.Context) error {
	for _, ix := range []struct {
		coll *mongo.Collection
		name string
		keys bson.D
		ttl  bool
	}{
		{a.docs, "name_v", bson.D{{Key: "name", Value: 1}, {Key: "v", Value: -1}}, false},
		{a.recs, "kind_labels", bson.D{{Key: "kind", Value: 1}, {Key: "labels", Value: 1}}, false},
		{a.recs, "exp_ttl", bson.D{{Key: "exp", Value: 1}}, true},
	} {
		have, err := a.s.indexNames(ctx, ix.coll.Name())
		if err != nil {
			return err
		}
		if ix.ttl && have["exp"] {
			continue // created without TTL before
		}
		if have[ix.name] {
			a.ttl = a.ttl || ix.ttl
			continue
		}
		o := options.Index().SetName(ix.name)
		if ix.ttl {
			o.SetExpireAfterSeconds(0)
		}
		_, err = ix.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o})
		if err != nil && ix.ttl {
			_, err = ix.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: options.Index().SetName("exp")})
		} else if err == nil && ix.ttl {
			a.ttl = true
		}
		if err != nil {
			return fmt.Errorf("mongo: create index %s.%s: %w", ix.coll.Name(), ix.name, err)
		}
	}
	return nil
}

// op admits a call (the Store is not closing) and runs it.
func (a *AuthState) op(f func() error) error {
	if err := a.s.gate.enter(); err != nil {
		return err
	}
	defer a.s.gate.leave()
	return f()
}

func (a *AuthState) latest(ctx context.Context, name string, withData bool) (authDoc, error) {
	var d authDoc
	o := options.FindOne().SetSort(bson.D{{Key: "v", Value: -1}})
	if !withData {
		o.SetProjection(bson.D{{Key: "v", Value: 1}})
	}
	err := a.docs.FindOne(ctx, bson.D{{Key: "name", Value: name}}, o).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return authDoc{}, nil
	}
	if err != nil {
		return authDoc{}, fmt.Errorf("mongo: read auth document %s: %w", name, err)
	}
	return d, nil
}

// LoadDoc returns the newest version of a document.
func (a *AuthState) LoadDoc(ctx context.Context, name string) (data []byte, version int64, err error) {
	err = a.op(func() error {
		d, err := a.latest(ctx, name, true)
		data, version = d.Data, d.V
		return err
	})
	return data, version, err
}

// DocVersion returns the newest version number of a document.
func (a *AuthState) DocVersion(ctx context.Context, name string) (version int64, err error) {
	err = a.op(func() error {
		d, err := a.latest(ctx, name, false)
		version = d.V
		return err
	})
	return version, err
}

// SaveDoc inserts version+1, when version is the newest. The unique _id
// lets one of two writers of the same version win. Versions older than the previous one are removed
// (they hold retired signing keys); a writer so far behind that its
// version+1 was already removed finds a newer version after inserting,
// withdraws its insert and gets ErrConflict too.
func (a *AuthState) SaveDoc(ctx context.Context, name string, data []byte, version int64) (newVersion int64, err error) {
	err = a.op(func() error {
		head, err := a.latest(ctx, name, false)
		if err != nil {
			return err
		}
		if head.V != version {
			return authstate.ErrConflict
		}
		next := version + 1
		id := fmt.Sprintf("%s/%d", name, next)
		_, err = a.docs.InsertOne(ctx, authDoc{ID: id, Name: name, V: next, Data: data, At: a.now().UTC()})
		if mongo.IsDuplicateKeyError(err) {
			return authstate.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("mongo: write auth document %s: %w", name, err)
		}
		if head, err = a.latest(ctx, name, false); err != nil {
			return err
		}
		if head.V != next {
			_, derr := a.docs.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
			return errors.Join(authstate.ErrConflict, derr)
		}
		newVersion = next
		_, err = a.docs.DeleteMany(ctx, bson.D{{Key: "name", Value: name}, {Key: "v", Value: bson.D{{Key: "$lt", Value: next - 1}}}})
		if err != nil {
			return fmt.Errorf("mongo: remove old versions of auth document %s: %w", name, err)
		}
		return nil
	})
	return newVersion, err
}

func recordID(kind, key string) string { return kind + "/" + key }

func (r authRecord) record() authstate.Record {
	return authstate.Record{Key: r.Key, Data: r.Data, Expires: r.Exp, Labels: r.Labels}
}

// Insert adds a record. A duplicate _id whose record has expired (the
// TTL monitor runs about once a minute) is removed, on the condition that
// it is still that expired record, and the insert tried again.
func (a *AuthState) Insert(ctx context.Context, kind string, r authstate.Record) error {
	return a.op(func() error {
		a.sweep(ctx)
		doc := authRecord{ID: recordID(kind, r.Key), Kind: kind, Key: r.Key, Data: r.Data, Exp: r.Expires.UTC(), Labels: r.Labels}
		if doc.Data == nil {
			doc.Data = []byte{}
		}
		for attempt := 0; ; attempt++ {
			_, err := a.recs.InsertOne(ctx, doc)
			if err == nil {
				return nil
			}
			if !mongo.IsDuplicateKeyError(err) {
				return fmt.Errorf("mongo: insert auth record %s: %w", kind, err)
			}
			old, err := a.get(ctx, kind, r.Key)
			if errors.Is(err, authstate.ErrNotFound) && attempt < 3 {
				continue // removed meanwhile
			}
			if err != nil {
				return err
			}
			if a.now().Before(old.Expires) || attempt >= 3 {
				return authstate.ErrExists
			}
			_, err = a.recs.DeleteOne(ctx, bson.D{{Key: "_id", Value: doc.ID}, {Key: "exp", Value: old.Expires.UTC()}})
			if err != nil {
				return fmt.Errorf("mongo: remove expired auth record %s: %w", kind, err)
			}
		}
	})
}

func (a *AuthState) get(ctx context.Context, kind, key string) (authstate.Record, error) {
	var d authRecord
	err := a.recs.FindOne(ctx, bson.D{{Key: "_id", Value: recordID(kind, key)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return authstate.Record{}, authstate.ErrNotFound
	}
	if err != nil {
		return authstate.Record{}, fmt.Errorf("mongo: read auth record %s: %w", kind, err)
	}
	return d.record(), nil
}

// Get reads a record (an expired one too, until it is removed).
func (a *AuthState) Get(ctx context.Context, kind, key string) (rec authstate.Record, err error) {
	err = a.op(func() error {
		rec, err = a.get(ctx, kind, key)
		return err
	})
	return rec, err
}

// Replace sets a record's data. It is an update, so on FerretDB not
// atomic against another writer of the same record: the server uses it
// only for records with one writer.
func (a *AuthState) Replace(ctx context.Context, kind, key string, data []byte) error {
	return a.op(func() error {
		res, err := a.recs.UpdateOne(ctx, bson.D{{Key: "_id", Value: recordID(kind, key)}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: data}}}})
		if err != nil {
			return fmt.Errorf("mongo: update auth record %s: %w", kind, err)
		}
		if res.MatchedCount == 0 {
			return authstate.ErrNotFound
		}
		return nil
	})
}

// Delete removes a record.
func (a *AuthState) Delete(ctx context.Context, kind, key string) error {
	return a.op(func() error {
		if _, err := a.recs.DeleteOne(ctx, bson.D{{Key: "_id", Value: recordID(kind, key)}}); err != nil {
			return fmt.Errorf("mongo: remove auth record %s: %w", kind, err)
		}
		return nil
	})
}

// Find lists the unexpired records of a kind with a label.
func (a *AuthState) Find(ctx context.Context, kind, label string) ([]authstate.Record, error) {
	return a.find(ctx, bson.D{{Key: "kind", Value: kind}, {Key: "labels", Value: label}})
}

// List lists the unexpired records of a kind.
func (a *AuthState) List(ctx context.Context, kind string) ([]authstate.Record, error) {
	return a.find(ctx, bson.D{{Key: "kind", Value: kind}})
}

func (a *AuthState) find(ctx context.Context, filter bson.D) (out []authstate.Record, err error) {
	err = a.op(func() error {
		filter = append(filter, bson.E{Key: "exp", Value: bson.D{{Key: "$gt", Value: a.now().UTC()}}})
		cur, err := a.recs.Find(ctx, filter)
		if err != nil {
			return fmt.Errorf("mongo: list auth records: %w", err)
		}
		var docs []authRecord
		if err := cur.All(ctx, &docs); err != nil {
			return fmt.Errorf("mongo: list auth records: %w", err)
		}
		for _, d := range docs {
			out = append(out, d.record())
		}
		return nil
	})
	return out, err
}

// sweep removes expired records where there is no TTL index, at most once
// per authSweepEvery per process. Failing is harmless: expired records
// are ignored by every read that matters.
func (a *AuthState) sweep(ctx context.Context) {
	if a.ttl {
		return
	}
	a.sweepMu.Lock()
	now := a.now()
	due := now.Sub(a.swept) >= authSweepEvery
	if due {
		a.swept = now
	}
	a.sweepMu.Unlock()
	if due {
		_, _ = a.recs.DeleteMany(ctx, bson.D{{Key: "exp", Value: bson.D{{Key: "$lte", Value: now.UTC()}}}})
	}
}
