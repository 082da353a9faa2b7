package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/store"
)

// Several server processes share one database, and each runs a
// subscription manager; only one of them may deliver, or every event
// goes out once per process. The delivery role is a lease in the
// database: the process holding it dispatches and delivers; the others
// stand by (their dispatcher finds nothing to read) and take over when it
// stops renewing.
//
// The lease is a series of terms, one document each, _id "delivery/<n>".
// A process takes term n+1 by inserting it once term n has expired: the
// unique _id lets one candidate win, with no conditional update (which
// FerretDB does not make atomic). The holder renews its own term's
// expiry and gives the role up when a later term exists or renewing
// fails; it counts itself the holder only until a quarter of the TTL
// before the expiry it wrote, to allow for clock skew between processes.
// The dispatcher's steps are fenced anyway (deliveries.go): a process
// that lost the role cannot number an event twice. A delivery already
// under way when the role moves may be sent twice (at least once, as
// always).

const leasesColl = "leases"

// DefaultLeaseTTL is how long a delivery lease lasts without renewal.
const DefaultLeaseTTL = 15 * time.Second

// LeaseOptions tune the delivery lease.
type LeaseOptions struct {
	// TTL is how long the lease lasts without renewal (DefaultLeaseTTL
	// when 0); it is renewed every TTL/3. A crashed holder's role is
	// taken over after at most about TTL.
	TTL    time.Duration
	Logger *slog.Logger
}

// errRoleChanged makes the dispatcher reload its state (and so start or
// stop matching) when this process takes the role or loses it.
var errRoleChanged = errors.New("mongo: this process's subscription delivery role changed; reloading the dispatch state")

// errNotHolder refuses delivery records from a process without the role.
var errNotHolder = errors.New("mongo: this process does not hold the subscription delivery lease")

type leaseDoc struct {
	Key   string `bson:"_id"`
	Name  string `bson:"name"`
	Term  int64  `bson:"term"`
	Owner string `bson:"owner"`
	Until int64  `bson:"until"` // µs
}

// Leased is the Store as one server process's subscription manager uses
// it: store.Repository and store.Deliveries, with Changes, LoadDispatch
// and MarkDelivered following the delivery lease. Everything else is the
// Store's.
type Leased struct {
	*Store
	ttl   time.Duration
	owner string
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{}

	mu         sync.Mutex
	term       int64     // the term held, 0 when none
	validUntil time.Time // when this process stops counting itself the holder
	loadedAs   bool      // whether the last LoadDispatch found the role held
}

// WithDeliveryLease returns the Store coordinated through the delivery
// lease, having tried once to take it. Close releases the lease, then
// closes the Store.
func (s *Store) WithDeliveryLease(ctx context.Context, opts LeaseOptions) (*Leased, error) {
	if opts.TTL <= 0 {
		opts.TTL = DefaultLeaseTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	l := &Leased{Store: s, ttl: opts.TTL, owner: hex.EncodeToString(b[:]), log: opts.Logger, done: make(chan struct{})}
	if err := l.tick(ctx); err != nil {
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	l.stop = stop
	go l.run(lctx)
	return l, nil
}

func (l *Leased) leases() *mongo.Collection { return l.db.Collection(leasesColl) }

func termKey(n int64) string { return fmt.Sprintf("delivery/%d", n) }

// Holding reports whether this process holds the delivery role now.
func (l *Leased) Holding() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holding(time.Now())
}

func (l *Leased) holding(now time.Time) bool { return l.term > 0 && now.Before(l.validUntil) }

func (l *Leased) run(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.tick(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("subscription delivery lease: the database did not answer", "err", err)
		}
	}
}

// tick renews the term held, or takes the next one if the current one
// has expired.
func (l *Leased) tick(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	if l.term > 0 {
		return l.renew(ctx, start)
	}
	var cur leaseDoc
	err := l.leases().FindOne(ctx, bson.D{{Key: "name", Value: "delivery"}},
		options.FindOne().SetSort(bson.D{{Key: "term", Value: -1}})).Decode(&cur)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return fmt.Errorf("read the delivery lease: %w", err)
	case start.Before(fromMicros(cur.Until)):
		return nil // held by another process
	}
	next := leaseDoc{Key: termKey(cur.Term + 1), Name: "delivery", Term: cur.Term + 1, Owner: l.owner, Until: toMicros(start.Add(l.ttl))}
	if _, err := l.leases().InsertOne(ctx, next); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return nil // another candidate won
		}
		return fmt.Errorf("take the delivery lease: %w", err)
	}
	l.term, l.validUntil = next.Term, start.Add(l.ttl-l.ttl/4)
	l.log.Info("subscription delivery: this process holds the lease", "term", next.Term)
	if cur.Term > 1 { // older terms are of no use; the newest stays
		_, _ = l.leases().DeleteMany(ctx, bson.D{{Key: "name", Value: "delivery"}, {Key: "term", Value: bson.D{{Key: "$lt", Value: cur.Term}}}})
	}
	return nil
}

// renew (l.mu held) extends the term held, or gives it up.
func (l *Leased) renew(ctx context.Context, start time.Time) error {
	r, err := l.leases().UpdateOne(ctx, bson.D{{Key: "_id", Value: termKey(l.term)}, {Key: "owner", Value: l.owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: toMicros(start.Add(l.ttl))}}}})
	if err == nil && r.MatchedCount == 1 {
		var n int64
		n, err = l.leases().CountDocuments(ctx, bson.D{{Key: "name", Value: "delivery"}, {Key: "term", Value: bson.D{{Key: "$gt", Value: l.term}}}})
		if err == nil && n == 0 {
			l.validUntil = start.Add(l.ttl - l.ttl/4)
			return nil
		}
	}
	// Not renewed: the role is another process's now, or will be soon.
	l.log.Warn("subscription delivery: this process lost the lease", "term", l.term, "err", err)
	l.term, l.validUntil = 0, time.Time{}
	return err
}

// Changes is the commit log for the holder; a process standing by reads
// nothing. When the role changed since the last LoadDispatch, it fails
// once so that the dispatcher reloads.
func (l *Leased) Changes(ctx context.Context, after int64, limit int) ([]store.Committed, error) {
	l.mu.Lock()
	holding, loadedAs := l.holding(time.Now()), l.loadedAs
	l.mu.Unlock()
	if holding != loadedAs {
		return nil, errRoleChanged
	}
	if !holding {
		return nil, nil
	}
	return l.Store.Changes(ctx, after, limit)
}

// LoadDispatch is the Store's for the holder; a process standing by gets
// the cursor and no subscriptions, so it runs no delivery workers.
func (l *Leased) LoadDispatch(ctx context.Context) (int64, []store.SubscriptionState, error) {
	l.mu.Lock()
	holding := l.holding(time.Now())
	l.loadedAs = holding
	l.mu.Unlock()
	cursor, subs, err := l.Store.LoadDispatch(ctx)
	if !holding {
		subs = nil
	}
	return cursor, subs, err
}

// MarkDelivered is refused to a process that lost the role, whose
// workers may still be running.
func (l *Leased) MarkDelivered(ctx context.Context, sub string, number int64) error {
	if !l.Holding() {
		return errNotHolder
	}
	return l.Store.MarkDelivered(ctx, sub, number)
}

// MarkSocketDelivered is the Store's, for every process: each delivers
// to the websockets bound at it, holder or not. Only the rest-hook
// deliveries, which one process makes, are fenced (MarkDelivered).

// Close releases the lease (another process can take it at once) and
// closes the Store.
func (l *Leased) Close() error {
	if l.stop != nil {
		l.stop()
		<-l.done
		l.stop = nil
		l.mu.Lock()
		if l.term > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = l.leases().UpdateOne(ctx, bson.D{{Key: "_id", Value: termKey(l.term)}, {Key: "owner", Value: l.owner}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: int64(0)}}}})
			cancel()
			l.term = 0
		}
		l.mu.Unlock()
	}
	return l.Store.Close()
}
