// Package server assembles the parts of a running Telederm (store, blob
// store, codec, REST service, HTTP API) from one configuration, so the
// command and the tests build exactly the same server.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/api"
	"github.com/telederm/telederm/internal/audit"
	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/subscription"
	"github.com/telederm/telederm/internal/subscription/egress"
	"github.com/telederm/telederm/internal/telederm"
	"github.com/telederm/telederm/internal/telederm/published"
)

// Config is what a server needs to start.
type Config struct {
	DataDir        string // database and blobs live here
	BaseURL        string // public base URL, no trailing slash
	SyncFull       bool   // fsync every commit (survives OS crashes, slower)
	MaxBodyBytes   int64
	MaxBinaryBytes int64
	// MaxBundleBytes and MaxBundleEntries cap batches and transactions;
	// 0 means the defaults (64 MiB, 1,000 entries).
	MaxBundleBytes   int64
	MaxBundleEntries int
	Logger           *slog.Logger
	// Registry is the search-parameter registry; nil means the R4 default.
	Registry *search.Registry
	// Auth is "smart" (SMART on FHIR: every FHIR endpoint but /metadata
	// needs a bearer token from the authorization server, whose files
	// live in DataDir/auth) or "off" (no tokens: a sandbox or tests).
	// There is no default: a caller says which.
	Auth string
	// NoAudit turns the audit trail off: no AuditEvents are recorded and
	// AuditEvent searches find nothing. Only for benchmarks and throwaway
	// sandboxes; the trail is on by default.
	NoAudit bool
	// BlobSweepEvery is how often Binary content that no version refers to
	// (left by writes that failed after storing it) is removed, and
	// BlobGrace how old such content must be; 0 means an hour each.
	BlobSweepEvery, BlobGrace time.Duration
	// SubscriptionsAllow lists the hosts notifications may go to although
	// they are loopback, private or plain http (HOST[:PORT],...; see
	// egress.ParseAllow), e.g. "127.0.0.1:*" in tests.
	SubscriptionsAllow string
	// SubscriptionTiming tunes delivery retries, timeouts and polling;
	// zero fields take the defaults.
	SubscriptionTiming subscription.Timing
	// NoWorkflow turns the teledermatology workflow off: referrals are
	// stored as plain ServiceRequests, untriaged, with no Task. Only for
	// tests of the generic FHIR server.
	NoWorkflow bool
	// TriageRules and Holidays are the operator's pathway rules and
	// bank-holiday files; empty means the committed defaults.
	TriageRules, Holidays string
	// ServiceOwner is the reference ("Organization/x") that owns the Task
	// of a referral that names no performer; empty leaves it unowned.
	ServiceOwner string
	// OverdueEvery is how often referrals past their due date are
	// flagged; 0 means every minute.
	OverdueEvery time.Duration
	// Now is the clock writes are stamped with; nil means the wall clock.
	// `telederm seed` sets it to lay down a region's history.
	Now func() time.Time

	// Store is a MongoDB URI (mongodb://...) to keep resources in;
	// empty means the embedded store under DataDir (store.go).
	Store string
	// MongoNonAtomicTransactions accepts, on a MongoDB deployment without
	// multi-document transactions, writes of several resources at once
	// that a crash or a concurrent writer can leave half applied.
	MongoNonAtomicTransactions bool
}

// Server is an assembled Telederm.
type Server struct {
	handler   http.Handler
	repo      backend
	subs      *subscription.Manager
	audit     *audit.Trail // nil when the trail is off
	stopSweep context.CancelFunc
	swept     chan struct{} // closed when the sweeper has stopped
	// overdueDone is closed when the overdue watch has stopped; nil when
	// the workflow is off.
	overdueDone chan struct{}
}

// Open opens the store under cfg.DataDir and builds the HTTP handler.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Auth != "off" && cfg.Auth != "smart" {
		return nil, fmt.Errorf("server.Config.Auth must be \"smart\" or \"off\", not %q", cfg.Auth)
	}
	repo, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	blobs, err := openBlobs(cfg, repo)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open blob store: %w", err), repo.Close())
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		return nil, errors.Join(err, repo.Close())
	}
	allow, err := egress.ParseAllow(cfg.SubscriptionsAllow)
	if err != nil {
		return nil, errors.Join(err, repo.Close())
	}
	reg := cfg.Registry
	if reg == nil {
		if reg, err = registryWithProfiles(); err != nil {
			return nil, errors.Join(err, repo.Close())
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	profileSet, err := publish(ctx, repo, codec, reg, cfg.BaseURL, now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return nil, errors.Join(err, repo.Close())
	}
	cal, err := loadCalendar(cfg.Holidays)
	if err != nil {
		return nil, errors.Join(err, repo.Close())
	}
	subs := subscription.New(subscription.Config{
		BaseURL: cfg.BaseURL, Repo: repo, State: repo, Registry: reg, Egress: allow, Logger: log,
		Restrict: cfg.Auth == "smart", CommitSignal: repo.CommitSignal, Timing: cfg.SubscriptionTiming,
		Tokens: bindingTokens(repo),
	})
	checkers := published.WriteCheckers()
	checkers["Subscription"] = subs
	var svc *rest.Service
	service := func() *rest.Service { return svc }
	restCfg := rest.Config{
		BaseURL: cfg.BaseURL, MaxBinaryBytes: cfg.MaxBinaryBytes, MaxBundleEntries: cfg.MaxBundleEntries,
		Logger: log, Registry: reg, Now: cfg.Now, Profiles: profileSet,
		WriteCheckers: checkers,
		Operations:    append(subs.Operations(), statsOperation(service, cal)),
		Advertise: func(c *fhir.Capabilities) {
			subs.Advertise(c)
			published.Advertise(c)
		},
	}
	var wf *telederm.Workflow
	if !cfg.NoWorkflow {
		if wf, err = newWorkflow(cfg, cal, profileSet, log); err != nil {
			return nil, errors.Join(err, repo.Close())
		}
		restCfg.CommitHook = wf
		restCfg.AccessPolicy = telederm.NewPolicy(service)
		restCfg.Operations = append(restCfg.Operations, wf.Operations(service)...)
	}
	apiCfg := api.Config{MaxBodyBytes: cfg.MaxBodyBytes, MaxBundleBytes: cfg.MaxBundleBytes, Logger: log, Ready: repo.Ping}
	var trail *audit.Trail
	if !cfg.NoAudit {
		trail, err = openTrail(ctx, cfg, repo, log)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open audit trail: %w", err), repo.Close())
		}
		restCfg.AuditTrail, apiCfg.Audit = trail, trail
	}
	restCfg.CommitHook = atomicGuard(repo, cfg, restCfg.CommitHook)
	svc = rest.New(repo, blobs, codec, restCfg)
	var authz *auth.Server
	if cfg.Auth == "smart" {
		authCfg := auth.Config{DataDir: cfg.DataDir, BaseURL: cfg.BaseURL, Logger: log, FindPatient: findPatient(svc)}
		if trail != nil { // a nil *Trail in the interface would not read as "none"
			authCfg.Audit = trail
		}
		if authCfg.State, err = openAuthState(ctx, repo); err == nil {
			authz, err = auth.Open(authCfg)
		}
		if err != nil {
			return nil, errors.Join(err, closeTrail(trail), repo.Close())
		}
		apiCfg.Auth, apiCfg.Security = authz, authz.SecurityCapability()
	}
	var authenticate func(*http.Request) (*access.Grant, error)
	if authz != nil {
		authenticate = authz.Authenticate
	}
	if err := subs.Start(svc, authenticate); err != nil {
		return nil, errors.Join(err, subs.Close(), closeTrail(trail), repo.Close())
	}
	h := withWebSocket(subs.WebSocket(), api.New(svc, apiCfg))
	if authz != nil {
		h = withAuth(authz, h)
	}
	srv := &Server{handler: h, repo: repo, subs: subs, audit: trail, swept: make(chan struct{})}
	sweepCtx, stop := context.WithCancel(context.Background())
	srv.stopSweep = stop
	go srv.sweepBlobs(sweepCtx, blobs, orHour(cfg.BlobSweepEvery), orHour(cfg.BlobGrace), log)
	if wf != nil {
		every := cfg.OverdueEvery
		if every <= 0 {
			every = time.Minute
		}
		srv.overdueDone = make(chan struct{})
		go func() {
			defer close(srv.overdueDone)
			wf.WatchOverdue(sweepCtx, svc, every, now)
		}()
	}
	return srv, nil
}

func closeTrail(t *audit.Trail) error {
	if t == nil {
		return nil
	}
	return t.Close()
}

func orHour(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Hour
	}
	return d
}

// sweepBlobs removes orphaned Binary content every interval, for as long
// as ctx lives.
func (s *Server) sweepBlobs(ctx context.Context, blobs blobStore, every, grace time.Duration, log *slog.Logger) {
	defer close(s.swept)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := blobs.Sweep(ctx, time.Now().Add(-grace), s.repo.BlobReferenced)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("blob sweep stopped", "err", err, "removed", n)
		case n > 0:
			log.Info("blob sweep removed orphaned content", "removed", n)
		}
	}
}

// Handler serves the FHIR API.
func (s *Server) Handler() http.Handler { return s.handler }

// AuditTrail is the audit trail, for parts that record events of their own
// (the authorization server) and for tests; nil when Config.NoAudit.
func (s *Server) AuditTrail() *audit.Trail { return s.audit }

// Close stops the blob sweeper and subscription delivery, writes the
// audit events still queued and closes the trail and the store; call it after the HTTP server has
// drained, so that the last requests are audited.
func (s *Server) Close() error {
	s.stopSweep()
	<-s.swept
	if s.overdueDone != nil {
		<-s.overdueDone
	}
	return errors.Join(s.subs.Close(), closeTrail(s.audit), s.repo.Close())
}

// withWebSocket serves the websocket notification channel at /ws.
func withWebSocket(ws, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			ws.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
