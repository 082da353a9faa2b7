package mongo

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Websocket deliveries are made by every process to the sockets bound at
// it, so several processes record them. Each process writes a document
// of its own, _id "<sub>\x00<process>": one writer per document, as for
// sub_delivered, because two FerretDB updates of one document can
// interleave (a $max applied late could lower the number). The delivered
// number of a subscription is the highest of sub_delivered and these.

const socketDeliveredColl = "sub_ws_delivered"

type socketDeliveredDoc struct {
	Key string `bson:"_id"` // "sub\x00process"
	Sub string `bson:"sub"`
	N   int64  `bson:"n"`
}

func (s *Store) socketDelivered() *mongo.Collection { return s.db.Collection(socketDeliveredColl) }

// MarkSocketDelivered raises the delivered number one process's sockets
// reached. It is not fenced by the delivery lease (Leased keeps it).
func (s *Store) MarkSocketDelivered(ctx context.Context, sub, process string, number int64) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	key := sub + "\x00" + process
	_, err := s.socketDelivered().UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sub", Value: sub}}}, {Key: "$max", Value: bson.D{{Key: "n", Value: number}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: mark websocket delivery of %s: %w", sub, err)
	}
	return nil
}

// socketDeliveredOf is the highest number any process's sockets reached
// for sub (0 when none). The _id range finds its documents on the _id
// index.
func (s *Store) socketDeliveredOf(ctx context.Context, sub string) (int64, error) {
	cur, err := s.socketDelivered().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: sub + "\x00"}, {Key: "$lt", Value: sub + "\x01"}}}})
	if err != nil {
		return 0, fmt.Errorf("mongo: websocket deliveries of %s: %w", sub, err)
	}
	var docs []socketDeliveredDoc
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("mongo: websocket deliveries of %s: %w", sub, err)
	}
	var n int64
	for _, d := range docs {
		if strings.HasPrefix(d.Key, sub+"\x00") {
			n = max(n, d.N)
		}
	}
	return n, nil
}

// addSocketDelivered raises each subscription's number in delivered to
// the highest its websocket deliveries reached.
func (s *Store) addSocketDelivered(ctx context.Context, delivered map[string]int64) error {
	cur, err := s.socketDelivered().Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("mongo: read websocket deliveries: %w", err)
	}
	var docs []socketDeliveredDoc
	if err := cur.All(ctx, &docs); err != nil {
		return fmt.Errorf("mongo: read websocket deliveries: %w", err)
	}
	for _, d := range docs {
		delivered[d.Sub] = max(delivered[d.Sub], d.N)
	}
	return nil
}
