package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/telederm/telederm/internal/store"
)

// Websocket binding tokens (store.BindingTokens), shared by every process
// on the database: a token minted by one binds a socket at any. A token
// is a document "t\x00<key>"; its use is a second document "u\x00<key>",
// inserted by the redeeming process: the unique _id lets exactly one
// redemption win, with no conditional update (which FerretDB does not
// make atomic). Both are kept until the token expires, so a second use is
// told apart from an unknown token, then deleted by a later save.

const bindingTokensColl = "sub_ws_tokens"

var _ store.BindingTokens = (*Store)(nil)

type bindingTokenDoc struct {
	Key   string   `bson:"_id"`
	Subs  []string `bson:"subs,omitempty"`
	Until int64    `bson:"until"` // µs
}

func (s *Store) bindingTokens() *mongo.Collection { return s.db.Collection(bindingTokensColl) }

// SaveBindingToken records a token and forgets the expired ones.
func (s *Store) SaveBindingToken(ctx context.Context, t store.BindingToken) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	doc := bindingTokenDoc{Key: "t\x00" + t.Key, Subs: t.Subscriptions, Until: toMicros(t.Expires)}
	if _, err := s.bindingTokens().InsertOne(ctx, doc); err != nil {
		return fmt.Errorf("mongo: save binding token: %w", err)
	}
	// Best effort: a failed sweep leaves expired tokens for the next one.
	_, _ = s.bindingTokens().DeleteMany(ctx, bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: toMicros(time.Now())}}}})
	return nil
}

// RedeemBindingToken uses a token once.
func (s *Store) RedeemBindingToken(ctx context.Context, key string, now time.Time) (store.BindingToken, error) {
	if err := s.gate.enter(); err != nil {
		return store.BindingToken{}, err
	}
	defer s.gate.leave()
	var doc bindingTokenDoc
	err := s.bindingTokens().FindOne(ctx, bson.D{{Key: "_id", Value: "t\x00" + key}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.BindingToken{}, store.ErrNotFound
	}
	if err != nil {
		return store.BindingToken{}, fmt.Errorf("mongo: read binding token: %w", err)
	}
	t := store.BindingToken{Key: key, Subscriptions: doc.Subs, Expires: fromMicros(doc.Until)}
	if !now.Before(t.Expires) {
		return store.BindingToken{}, store.ErrTokenExpired
	}
	if _, err := s.bindingTokens().InsertOne(ctx, bindingTokenDoc{Key: "u\x00" + key, Until: doc.Until}); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return store.BindingToken{}, store.ErrTokenUsed
		}
		return store.BindingToken{}, fmt.Errorf("mongo: use binding token: %w", err)
	}
	return t, nil
}
