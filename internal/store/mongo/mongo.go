// Package mongo is the MongoDB backend of store.Repository, for a replica
// set or sharded cluster that several server processes share. It is the only
// package that imports the MongoDB driver.
//
// Data model (schema.go has the indexes):
//
//	resources  one document per resource, _id "Type/id": the current
//	           version (number, body as exact bytes, lastUpdated, method,
//	           deleted flag) and its search index (index.go).
//	versions   every version, _id a global sequence number that orders
//	           history and history cursors; unique on (type, id, v), which is
//	           what arbitrates concurrent writers (commit.go).
//	meta       the schema version and the sequence counter.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/telederm/telederm/internal/store"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("mongo: store closed")

// DefaultDatabase is the database used when neither Options.Database nor
// the URI names one.
const DefaultDatabase = "telederm"

// defaultAbandonAfter is how long a claimed version may stay pending
// before the next writer takes it as abandoned by a crashed process.
const defaultAbandonAfter = 30 * time.Second

// Options tune a Store.
type Options struct {
	// Database is the database name; empty means the URI's path, or
	// DefaultDatabase.
	Database string
	// AllowNonAtomic accepts commits of several changes on a deployment
	// without multi-document transactions (a standalone server, FerretDB).
	// Each change is still atomic, and every change is checked before any
	// is written, but a concurrent writer or a crash can leave a commit
	// half applied. Without it such commits are refused.
	AllowNonAtomic bool
	// Logger receives the start-up warning about non-atomic commits; nil
	// means slog.Default().
	Logger *slog.Logger
	// Quiet leaves that warning to the caller, who may allow non-atomic
	// commits for its own idempotent writes only (the server's start-up
	// publishing) and refuse them to clients.
	Quiet bool
}

// Store is a store.Repository on a MongoDB database. It is safe for
// concurrent use.
type Store struct {
	gate      gate
	client    *mongo.Client
	db        *mongo.Database
	ver, meta *mongo.Collection
	// resColls caches each type's collection of resource documents;
	// indexed records the types whose indexes this process has ensured
	// (collections.go).
	resColls  sync.Map
	indexed   sync.Map
	server    serverInfo
	nonAtomic bool
	// seqMu serialises claims within the process, in sequence number
	// order; lastSeq is the highest number known to exist (seq.go).
	seqMu    sync.Mutex
	seqKnown bool
	lastSeq  int64
	// signal wakes the subscription dispatcher after a commit through
	// this Store, and, where there are change streams, through any
	// (watch.go; elsewhere other processes' commits are found by polling).
	signal store.Signal
	// stopWatch ends watchCommits, which closes watchDone.
	stopWatch context.CancelFunc
	watchDone chan struct{}
	// disp is the dispatcher's view of the delivery state (deliveries.go).
	disp dispatchState
	// abandonAfter is how old a pending claim must be before another
	// writer finishes it (commit.go).
	abandonAfter time.Duration

	// beforeApply, when set (tests), runs after a non-atomic commit's
	// checks and before its first write.
	beforeApply func()
}

var _ store.Repository = (*Store)(nil)

// Open connects to uri, checks the schema version (refusing a newer one),
// creates the collections' indexes if missing and detects whether the
// deployment has multi-document transactions.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, fmt.Errorf("mongo: %w", err)
	}
	name := opts.Database
	if name == "" {
		name = cs.Database
	}
	if name == "" {
		name = DefaultDatabase
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	s := &Store{client: client, db: client.Database(name), nonAtomic: opts.AllowNonAtomic, abandonAfter: defaultAbandonAfter}
	s.ver, s.meta = s.db.Collection(versionsColl), s.db.Collection(metaColl)
	if err := s.open(ctx, opts); err != nil {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return nil, errors.Join(err, client.Disconnect(dctx))
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, opts Options) error {
	var err error
	if s.server, err = probe(ctx, s.db); err != nil {
		return err
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if s.server.transactions { // a replica set or mongos: change streams too
		var wctx context.Context
		wctx, s.stopWatch = context.WithCancel(context.Background())
		s.watchDone = make(chan struct{})
		go s.watchCommits(wctx, log)
	}
	if !s.server.transactions && s.nonAtomic && !opts.Quiet {
		log.Warn("mongo: this deployment has no multi-document transactions and non-atomic commits are allowed: "+
			"a transaction bundle interrupted by a crash or a concurrent writer can be left half applied",
			"database", s.db.Name(), "server", s.server.describe())
	}
	return nil
}

// Describe names the server and its topology, for logs.
func (s *Store) Describe() string { return s.server.describe() }

// Transactions reports whether commits of several changes run in a
// multi-document transaction (a replica set or sharded cluster).
func (s *Store) Transactions() bool { return s.server.transactions }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Close waits for the calls in flight and disconnects. A second Close does
// nothing.
func (s *Store) Close() error {
	if !s.gate.close() {
		return nil
	}
	if s.stopWatch != nil {
		s.stopWatch()
		<-s.watchDone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: disconnect: %w", err)
	}
	return nil
}

// gate admits calls until it is shut, and lets the closer wait for the calls
// already admitted, so Close never disconnects under a commit.
type gate struct {
	mu       sync.RWMutex
	shut     bool
	inflight sync.WaitGroup
}

func (g *gate) enter() error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.shut {
		return ErrClosed
	}
	g.inflight.Add(1)
	return nil
}

func (g *gate) leave() { g.inflight.Done() }

func (g *gate) close() bool {
	g.mu.Lock()
	first := !g.shut
	g.shut = true
	g.mu.Unlock()
	g.inflight.Wait()
	return first
}

// serverInfo is what Open learns about the deployment.
type serverInfo struct {
	transactions bool   // replica set or mongos
	ferret       bool   // FerretDB, which has no wildcard indexes
	version      []int  // buildInfo versionArray
	topology     string // for the log
}

func (si serverInfo) describe() string {
	if si.ferret {
		return "FerretDB (" + si.topology + ")"
	}
	return fmt.Sprintf("MongoDB %v (%s)", si.version, si.topology)
}

// probe asks the server what it is: hello says whether it is a replica set
// member or a mongos (both have multi-document transactions), buildInfo
// its version and whether it is FerretDB.
func probe(ctx context.Context, db *mongo.Database) (serverInfo, error) {
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return serverInfo{}, fmt.Errorf("mongo: hello: %w", err)
	}
	var build struct {
		VersionArray []int  `bson:"versionArray"`
		Ferret       string `bson:"ferretdbVersion"`
	}
	raw, err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return serverInfo{}, fmt.Errorf("mongo: buildInfo: %w", err)
	}
	if err := bson.Unmarshal(raw, &build); err != nil {
		return serverInfo{}, fmt.Errorf("mongo: buildInfo: %w", err)
	}
	_, isFerret := raw.Lookup("ferretdbVersion").StringValueOK()
	si := serverInfo{ferret: isFerret, version: build.VersionArray, topology: "standalone"}
	switch {
	case hello.SetName != "":
		si.transactions, si.topology = true, "replica set "+hello.SetName
	case hello.Msg == "isdbgrid":
		si.transactions, si.topology = true, "sharded cluster"
	}
	return si, nil
}
