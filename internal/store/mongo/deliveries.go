package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/store"
)

var _ store.Deliveries = (*Store)(nil)

// The delivery state (store.Deliveries) without multi-document
// transactions: a dispatcher step must record its subscriptions, its
// numbered events and its cursor together or not at all, and no two
// dispatchers (server processes) may number the same change.
//
// Each step is therefore first written as one document of the steps
// collection, _id the step number: a single insert, atomic anywhere, and
// the unique _id lets one dispatcher only write step n+1 — the one whose
// view of step n (its cursor and event counts) the numbers were computed
// from. A dispatcher that lost the race gets ErrDispatchRace and reloads.
// The step is then applied to the collections readers use (subs, events)
// with idempotent writes, and marked done; a step left undone by a crash
// is applied again by the next LoadDispatch or Dispatch, by any process.
// Done steps keep their number and cursor (a few bytes) and lose their
// payload.

// ErrDispatchRace reports a Dispatch that another dispatcher (another
// server process) overtook: the caller reloads with LoadDispatch.
var ErrDispatchRace = errors.New("mongo: another dispatcher recorded the step first; reload the dispatch state")

const (
	stepsColl     = "dispatch_steps"
	subsColl      = "sub_state"
	eventsColl    = "sub_events"
	ownersColl    = "sub_owners"
	deliveredColl = "sub_delivered"
)

type stepDoc struct {
	N      int64       `bson:"_id"`
	Cursor int64       `bson:"cursor"`
	Done   bool        `bson:"done"`
	Subs   []stepSub   `bson:"subs,omitempty"`
	Events []stepEvent `bson:"events,omitempty"`
}

type stepSub struct {
	ID   string `bson:"id"`
	V    int64  `bson:"v"`
	Live bool   `bson:"live"`
}

type stepEvent struct {
	Sub string `bson:"sub"`
	N   int64  `bson:"n"`
	Seq int64  `bson:"seq"`
}

// subDoc is written by the dispatcher only. How far delivery got is in
// another document (deliveredDoc), written by the subscription's worker
// only: two writers of one document race on FerretDB, whose updates read
// the document and write it back whole (an event-count update applied
// after a delivery could put the delivered number back, and the event
// would be sent again). On MongoDB one document would do.
type subDoc struct {
	ID     string `bson:"_id"`
	V      int64  `bson:"v"`
	Live   bool   `bson:"live"`
	Events int64  `bson:"events"`
	// Delivered is where schema 1 kept the delivered number; it is read
	// (the higher of the two counts) and no longer written.
	Delivered int64 `bson:"delivered,omitempty"`
}

type deliveredDoc struct {
	Sub string `bson:"_id"`
	N   int64  `bson:"n"`
}

func (d subDoc) state(delivered int64) store.SubscriptionState {
	return store.SubscriptionState{ID: d.ID, Version: d.V, Live: d.Live, Events: d.Events, Delivered: max(d.Delivered, delivered)}
}

type eventDoc struct {
	Key string `bson:"_id"` // "sub\x00n"
	Sub string `bson:"sub"`
	N   int64  `bson:"n"`
	Seq int64  `bson:"seq"`
}

type ownerDoc struct {
	Key    string `bson:"_id"` // "sub\x00version\x00digest"
	Sub    string `bson:"sub"`
	V      int64  `bson:"v"`
	Digest []byte `bson:"digest"`
	Grant  []byte `bson:"grant"`
}

// dispatchState is what this process's dispatcher has recorded or
// loaded: the step its next one follows.
type dispatchState struct {
	mu     sync.Mutex
	known  bool
	step   int64
	cursor int64
	events map[string]int64 // every known subscription's event count
}

func (s *Store) steps() *mongo.Collection  { return s.db.Collection(stepsColl) }
func (s *Store) subs() *mongo.Collection   { return s.db.Collection(subsColl) }
func (s *Store) events() *mongo.Collection { return s.db.Collection(eventsColl) }
func (s *Store) owners() *mongo.Collection { return s.db.Collection(ownersColl) }
func (s *Store) delivered() *mongo.Collection {
	return s.db.Collection(deliveredColl)
}

// LoadDispatch applies any step left undone, and returns the cursor and
// every subscription's state. The next Dispatch follows the last step.
func (s *Store) LoadDispatch(ctx context.Context) (int64, []store.SubscriptionState, error) {
	if err := s.gate.enter(); err != nil {
		return 0, nil, err
	}
	defer s.gate.leave()
	s.disp.mu.Lock()
	defer s.disp.mu.Unlock()
	subs, err := s.loadDispatch(ctx)
	if err != nil {
		return 0, nil, err
	}
	return s.disp.cursor, subs, nil
}

// loadDispatch (s.disp.mu held) brings s.disp up to the last step.
func (s *Store) loadDispatch(ctx context.Context) ([]store.SubscriptionState, error) {
	s.disp.known = false
	cur, err := s.steps().Find(ctx, bson.D{{Key: "done", Value: false}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: read dispatch steps: %w", err)
	}
	var undone []stepDoc
	if err := cur.All(ctx, &undone); err != nil {
		return nil, fmt.Errorf("mongo: read dispatch steps: %w", err)
	}
	for i := range undone {
		if err := s.applyStep(ctx, &undone[i]); err != nil {
			return nil, err
		}
	}
	var last stepDoc
	err = s.steps().FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "cursor", Value: 1}})).Decode(&last)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("mongo: read dispatch cursor: %w", err)
	}
	cur, err = s.subs().Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("mongo: read subscriptions: %w", err)
	}
	var docs []subDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: read subscriptions: %w", err)
	}
	cur, err = s.delivered().Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("mongo: read deliveries: %w", err)
	}
	var dels []deliveredDoc
	if err := cur.All(ctx, &dels); err != nil {
		return nil, fmt.Errorf("mongo: read deliveries: %w", err)
	}
	delivered := make(map[string]int64, len(dels))
	for _, d := range dels {
		delivered[d.Sub] = d.N
	}
	if err := s.addSocketDelivered(ctx, delivered); err != nil {
		return nil, err
	}
	states := make([]store.SubscriptionState, 0, len(docs))
	counts := make(map[string]int64, len(docs))
	for _, d := range docs {
		states = append(states, d.state(delivered[d.ID]))
		counts[d.ID] = d.Events
	}
	s.disp.known, s.disp.step, s.disp.cursor, s.disp.events = true, last.N, last.Cursor, counts
	return states, nil
}

// Dispatch records one step: see the comment at the top of this file.
func (s *Store) Dispatch(ctx context.Context, d store.Dispatch) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	wctx := context.WithoutCancel(ctx)
	s.disp.mu.Lock()
	defer s.disp.mu.Unlock()
	if !s.disp.known {
		if _, err := s.loadDispatch(wctx); err != nil {
			return err
		}
	}
	if d.Cursor < s.disp.cursor {
		return fmt.Errorf("mongo: dispatch: cursor %d is behind the recorded %d", d.Cursor, s.disp.cursor)
	}
	step := stepDoc{N: s.disp.step + 1, Cursor: d.Cursor}
	counts := map[string]int64{}
	count := func(id string) (int64, bool) {
		if n, ok := counts[id]; ok {
			return n, true
		}
		n, ok := s.disp.events[id]
		return n, ok
	}
	for _, st := range d.Subscriptions {
		step.Subs = append(step.Subs, stepSub{ID: st.ID, V: st.Version, Live: st.Live})
		if _, ok := count(st.ID); !ok {
			counts[st.ID] = 0
		}
	}
	for _, ev := range d.Events {
		n, ok := count(ev.Subscription)
		if !ok {
			return fmt.Errorf("mongo: dispatch: event for unknown subscription %s", ev.Subscription)
		}
		counts[ev.Subscription] = n + 1
		step.Events = append(step.Events, stepEvent{Sub: ev.Subscription, N: n + 1, Seq: ev.Seq})
	}
	if len(step.Subs) == 0 && len(step.Events) == 0 && d.Cursor == s.disp.cursor {
		return nil // nothing to record
	}
	if _, err := s.steps().InsertOne(wctx, step); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			s.disp.known = false
			return ErrDispatchRace
		}
		return fmt.Errorf("mongo: dispatch: %w", err)
	}
	// Recorded: the state moves on even if applying it fails below (the
	// next load applies it).
	s.disp.step, s.disp.cursor = step.N, step.Cursor
	for id, n := range counts {
		s.disp.events[id] = n
	}
	if err := s.applyStep(wctx, &step); err != nil {
		s.disp.known = false
		return err
	}
	return nil
}

// applyStep writes a recorded step into subs and events, idempotently,
// and marks it done.
func (s *Store) applyStep(ctx context.Context, st *stepDoc) error {
	var subModels []mongo.WriteModel
	for _, sub := range st.Subs {
		subModels = append(subModels, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: sub.ID}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: sub.V}, {Key: "live", Value: sub.Live}}},
				{Key: "$max", Value: bson.D{{Key: "events", Value: int64(0)}}}}).SetUpsert(true))
	}
	last := map[string]int64{}
	var evModels []mongo.WriteModel
	for _, ev := range st.Events {
		last[ev.Sub] = max(last[ev.Sub], ev.N)
		evModels = append(evModels, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: eventKey(ev.Sub, ev.N)}}).
			SetReplacement(eventDoc{Key: eventKey(ev.Sub, ev.N), Sub: ev.Sub, N: ev.N, Seq: ev.Seq}).SetUpsert(true))
	}
	for id, n := range last {
		subModels = append(subModels, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).
			SetUpdate(bson.D{{Key: "$max", Value: bson.D{{Key: "events", Value: n}}}}).SetUpsert(true))
	}
	// Events first: a subscription's count never runs ahead of its events.
	for _, batch := range []struct {
		coll   *mongo.Collection
		models []mongo.WriteModel
	}{{s.events(), evModels}, {s.subs(), subModels}} {
		if len(batch.models) == 0 {
			continue
		}
		if _, err := batch.coll.BulkWrite(ctx, batch.models); err != nil {
			return fmt.Errorf("mongo: apply dispatch step %d: %w", st.N, err)
		}
	}
	_, err := s.steps().UpdateOne(ctx, bson.D{{Key: "_id", Value: st.N}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}}}, {Key: "$unset", Value: bson.D{{Key: "subs", Value: ""}, {Key: "events", Value: ""}}}})
	if err != nil {
		return fmt.Errorf("mongo: apply dispatch step %d: %w", st.N, err)
	}
	return nil
}

func eventKey(sub string, n int64) string { return fmt.Sprintf("%s\x00%d", sub, n) }

// Progress returns one subscription's state.
func (s *Store) Progress(ctx context.Context, sub string) (store.SubscriptionState, error) {
	if err := s.gate.enter(); err != nil {
		return store.SubscriptionState{}, err
	}
	defer s.gate.leave()
	var d subDoc
	err := s.subs().FindOne(ctx, bson.D{{Key: "_id", Value: sub}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return store.SubscriptionState{}, store.ErrNotFound
	}
	if err != nil {
		return store.SubscriptionState{}, fmt.Errorf("mongo: subscription %s: %w", sub, err)
	}
	var del deliveredDoc
	err = s.delivered().FindOne(ctx, bson.D{{Key: "_id", Value: sub}}).Decode(&del)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return store.SubscriptionState{}, fmt.Errorf("mongo: deliveries of %s: %w", sub, err)
	}
	ws, err := s.socketDeliveredOf(ctx, sub)
	if err != nil {
		return store.SubscriptionState{}, err
	}
	return d.state(max(del.N, ws)), nil
}

// Events returns a subscription's events numbered from..to with their
// versions.
func (s *Store) Events(ctx context.Context, sub string, from, to int64, limit int) ([]store.QueuedEvent, error) {
	if limit < 1 {
		return nil, fmt.Errorf("mongo: events limit %d, want at least 1", limit)
	}
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	cur, err := s.events().Find(ctx, bson.D{{Key: "sub", Value: sub}, {Key: "n", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lte", Value: to}}}},
		options.Find().SetSort(bson.D{{Key: "n", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("mongo: events of %s: %w", sub, err)
	}
	var evs []eventDoc
	if err := cur.All(ctx, &evs); err != nil {
		return nil, fmt.Errorf("mongo: events of %s: %w", sub, err)
	}
	if len(evs) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(evs))
	for i, e := range evs {
		seqs[i] = e.Seq
	}
	cur, err = s.ver.Find(ctx, bson.D{{Key: "seq", Value: bson.D{{Key: "$in", Value: seqs}}}}, options.Find().SetProjection(versionFields))
	if err != nil {
		return nil, fmt.Errorf("mongo: events of %s: %w", sub, err)
	}
	var vs []versionDoc
	if err := cur.All(ctx, &vs); err != nil {
		return nil, fmt.Errorf("mongo: events of %s: %w", sub, err)
	}
	bySeq := make(map[int64]*versionDoc, len(vs))
	for i := range vs {
		bySeq[vs[i].Seq] = &vs[i]
	}
	out := make([]store.QueuedEvent, 0, len(evs))
	for _, e := range evs {
		v := bySeq[e.Seq]
		if v == nil {
			return nil, fmt.Errorf("mongo: event %d of %s: version seq %d is missing", e.N, sub, e.Seq)
		}
		out = append(out, store.QueuedEvent{Number: e.N, Seq: e.Seq, Version: v.version()})
	}
	return out, nil
}

// MarkDelivered raises a subscription's delivered number.
func (s *Store) MarkDelivered(ctx context.Context, sub string, number int64) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	_, err := s.delivered().UpdateOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: sub}},
		bson.D{{Key: "$max", Value: bson.D{{Key: "n", Value: number}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: mark delivered %s: %w", sub, err)
	}
	return nil
}

// SaveOwner records who wrote a subscription version.
func (s *Store) SaveOwner(ctx context.Context, sub string, o store.Owner) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	// One record per version and body: a write that failed leaves a
	// record whose digest matches no committed version.
	key := fmt.Sprintf("%s\x00%d\x00%x", sub, o.Version, o.Digest)
	_, err := s.owners().ReplaceOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: key}},
		ownerDoc{Key: key, Sub: sub, V: o.Version, Digest: o.Digest, Grant: o.Grant}, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: save owner of %s: %w", sub, err)
	}
	return nil
}

// Owners returns a subscription's owner records, newest version first.
func (s *Store) Owners(ctx context.Context, sub string) ([]store.Owner, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	cur, err := s.owners().Find(ctx, bson.D{{Key: "sub", Value: sub}}, options.Find().SetSort(bson.D{{Key: "v", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: owners of %s: %w", sub, err)
	}
	var docs []ownerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: owners of %s: %w", sub, err)
	}
	out := make([]store.Owner, len(docs))
	for i, d := range docs {
		out[i] = store.Owner{Version: d.V, Digest: d.Digest, Grant: d.Grant}
	}
	return out, nil
}
