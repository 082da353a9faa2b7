package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/audit"
	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/mongo"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// backend is what the server needs of its store: the resources, the
// subscription delivery state, and a signal after each commit (which,
// on MongoDB, only this process's commits fire: the dispatcher polls for
// the others').
type backend interface {
	store.Repository
	store.Deliveries
	CommitSignal() <-chan struct{}
}

// openStore opens the store cfg.Store names: the embedded SQLite store
// under cfg.DataDir when empty, a MongoDB deployment for a mongodb:// or
// mongodb+srv:// URI.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (backend, error) {
	switch {
	case cfg.Store == "":
		sync := sqlite.SyncNormal
		if cfg.SyncFull {
			sync = sqlite.SyncFull
		}
		return sqlite.Open(ctx, cfg.DataDir, sqlite.Options{Synchronous: sync})
	case strings.HasPrefix(cfg.Store, "mongodb://"), strings.HasPrefix(cfg.Store, "mongodb+srv://"):
		return openMongo(ctx, cfg, log)
	}
	return nil, fmt.Errorf("store %q: want a mongodb:// or mongodb+srv:// URI, or none for the embedded store", redactURI(cfg.Store))
}

// blobStore keeps Binary content, and sweeps what no version refers to.
type blobStore interface {
	media.BlobStore
	Sweep(ctx context.Context, cutoff time.Time, referenced func(ctx context.Context, ref string) (bool, error)) (int, error)
}

// openBlobs is where Binary content goes: files under the data directory
// with the embedded store; with MongoDB, the database (GridFS), so that
// every process reads what any wrote.
func openBlobs(cfg Config, repo backend) (blobStore, error) {
	if m, ok := repo.(*mongo.Leased); ok {
		return m.Blobs(), nil
	}
	return media.NewFileStore(filepath.Join(cfg.DataDir, "blobs"))
}

// openAuthState is where the authorization server keeps its state: nil
// (files under the data directory, and memory) with the embedded store;
// with MongoDB, the database, so that every process honours the keys,
// codes, launches, refresh tokens and revocations of any.
func openAuthState(ctx context.Context, repo backend) (auth.State, error) {
	if m, ok := repo.(*mongo.Leased); ok {
		return m.AuthState(ctx)
	}
	return nil, nil
}

// bindingTokens is where websocket binding tokens are kept: nil (the
// process's memory) with the embedded store; with MongoDB, the database,
// so that a token minted by one process binds a socket at any.
func bindingTokens(repo backend) store.BindingTokens {
	if m, ok := repo.(*mongo.Leased); ok {
		return m
	}
	return nil
}

// openTrail opens the audit trail: audit.db in the data directory with
// the embedded store; with MongoDB, the database, so that AuditEvent
// searches on any process see the events every process recorded.
func openTrail(ctx context.Context, cfg Config, repo backend, log *slog.Logger) (*audit.Trail, error) {
	opts := audit.Options{BaseURL: cfg.BaseURL, SyncFull: cfg.SyncFull, Logger: log}
	if m, ok := repo.(*mongo.Leased); ok {
		s, err := m.AuditStore(ctx)
		if err != nil {
			return nil, err
		}
		return audit.OpenStore(s, opts)
	}
	return audit.Open(ctx, cfg.DataDir, opts)
}

// openMongo opens the MongoDB store with the subscription delivery lease,
// so that several processes on one database deliver each event once.
//
// The store accepts non-atomic commits of several changes: the server's
// own start-up writes (the published profiles) are idempotent and are
// repeated at the next start if interrupted. Clients' commits of several
// changes are refused by atomicGuard unless the operator accepted
// non-atomic transactions.
func openMongo(ctx context.Context, cfg Config, log *slog.Logger) (backend, error) {
	s, err := mongo.Open(ctx, cfg.Store, mongo.Options{AllowNonAtomic: true, Quiet: true, Logger: log})
	if err != nil {
		return nil, err
	}
	switch {
	case s.Transactions():
		log.Info("store: MongoDB with multi-document transactions", "server", s.Describe())
	case cfg.MongoNonAtomicTransactions:
		log.Warn("store: THIS DEPLOYMENT HAS NO MULTI-DOCUMENT TRANSACTIONS and non-atomic transactions were accepted "+
			"(--mongo-non-atomic-transactions): a transaction Bundle or referral interrupted by a crash or a concurrent "+
			"writer can be left half applied. Use a replica set.", "server", s.Describe())
	default:
		log.Warn("store: this deployment has no multi-document transactions: transaction Bundles and other writes of "+
			"several resources at once are refused (use a replica set, or accept non-atomic transactions with "+
			"--mongo-non-atomic-transactions)", "server", s.Describe())
	}
	leased, err := s.WithDeliveryLease(ctx, mongo.LeaseOptions{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("subscription delivery lease: %w", err)
	}
	return leased, nil
}

// atomicGuard refuses, with an OperationOutcome, commits of several
// resources that the store cannot make atomic (MongoDB without
// multi-document transactions) unless cfg accepts non-atomic ones. It
// sees the commit after next (the workflow, which may add a Task to a
// referral), so the count is of what would be written. nil next is fine.
func atomicGuard(repo backend, cfg Config, next rest.CommitHook) rest.CommitHook {
	tx, ok := repo.(interface{ Transactions() bool })
	if !ok || tx.Transactions() || cfg.MongoNonAtomicTransactions {
		return next
	}
	return guard{next}
}

type guard struct{ next rest.CommitHook }

func (g guard) BeforeCommit(ctx context.Context, c *rest.Commit) error {
	if g.next != nil {
		if err := g.next.BeforeCommit(ctx, c); err != nil {
			return err
		}
	}
	if n := len(c.Changes()); n > 1 {
		return &rest.Refusal{Status: http.StatusBadRequest, Outcome: fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
			fmt.Sprintf("this write changes %d resources at once, which this server cannot do atomically: its MongoDB "+
				"deployment has no multi-document transactions (a standalone server). The operator can run a replica "+
				"set, or accept non-atomic writes with --mongo-non-atomic-transactions", n))}
	}
	return nil
}

// redactURI drops the credentials from a store URI, for messages.
func redactURI(uri string) string {
	if at := strings.LastIndex(uri, "@"); at >= 0 {
		if scheme := strings.Index(uri, "://"); scheme >= 0 && scheme < at {
			return uri[:scheme+3] + "…" + uri[at:]
		}
	}
	return uri
}
