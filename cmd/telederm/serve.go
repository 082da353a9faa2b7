package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/subscription/egress"
)

var version = rest.Version

// gcPercent is the server's GOGC unless the environment sets one.
const gcPercent = 200

// serveConfig is everything serve reads from flags and the environment.
type serveConfig struct {
	addr, data, baseURL, auth, sync, logFormat string
	maxBody, maxBinary, maxBundle              int64
	maxBundleEntries                           int
	shutdownTimeout                            time.Duration
	audit                                      string // on or off
	subscriptionsAllow                         string
	// The teledermatology workflow's operator files and service.
	triageRules, holidays, serviceOwner string
	// store is a MongoDB URI, empty for the embedded store;
	// mongoNonAtomic accepts non-atomic transactions on a deployment
	// without multi-document transactions.
	store          string
	mongoNonAtomic bool
}

// parseServeFlags reads flags; each flag's default comes from its
// TELEDERM_* environment variable when set, so flags win over the
// environment.
func parseServeFlags(args []string, stderr io.Writer, getenv func(string) string) (serveConfig, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c serveConfig
	fs.StringVar(&c.addr, "addr", env("TELEDERM_ADDR", ":8080"), "listen address (TELEDERM_ADDR)")
	fs.StringVar(&c.data, "data", env("TELEDERM_DATA", "./data"), "data directory: database and blobs (TELEDERM_DATA)")
	fs.StringVar(&c.baseURL, "base-url", env("TELEDERM_BASE_URL", ""), "public base URL written into Location, fullUrl and links; default from --addr (TELEDERM_BASE_URL)")
	fs.StringVar(&c.auth, "auth", env("TELEDERM_AUTH", "smart"), "authorization: smart (SMART on FHIR tokens; register clients with telederm clients) or off (no tokens: sandboxes and tests only) (TELEDERM_AUTH)")
	fs.StringVar(&c.sync, "sync", env("TELEDERM_SYNC", "normal"), "commit durability: normal survives a process crash, full also an OS crash (TELEDERM_SYNC)")
	fs.StringVar(&c.audit, "audit", env("TELEDERM_AUDIT", "on"), "audit trail of every request in <data>/audit.db: on, or off for benchmarks and throwaway sandboxes (TELEDERM_AUDIT)")
	fs.StringVar(&c.subscriptionsAllow, "subscriptions-allow", env("TELEDERM_SUBSCRIPTIONS_ALLOW", ""), "hosts subscription notifications may go to although loopback, private or plain http: HOST[:PORT],... with PORT a number or * (e.g. 127.0.0.1:*); other endpoints must be https on public addresses (TELEDERM_SUBSCRIPTIONS_ALLOW)")
	fs.StringVar(&c.triageRules, "triage-rules", env("TELEDERM_TRIAGE_RULES", ""), "pathway rules file (JSON, checked against the rules schema at start); default the committed NICE NG12 rules (TELEDERM_TRIAGE_RULES)")
	fs.StringVar(&c.holidays, "holidays", env("TELEDERM_HOLIDAYS", ""), "bank-holiday calendar for working-day due dates: JSON {\"timezone\": ..., \"holidays\": [\"2026-12-25\", ...]}; default England and Wales 2025-2028 (TELEDERM_HOLIDAYS)")
	fs.StringVar(&c.serviceOwner, "service-owner", env("TELEDERM_SERVICE_OWNER", ""), "reference of the dermatology service (Organization/id) that owns referrals naming no performer (TELEDERM_SERVICE_OWNER)")
	fs.StringVar(&c.logFormat, "log-format", env("TELEDERM_LOG_FORMAT", "json"), "log format: json or text (TELEDERM_LOG_FORMAT)")
	maxBody := fs.String("max-body", env("TELEDERM_MAX_BODY", "16MiB"), "largest request body (TELEDERM_MAX_BODY)")
	maxBinary := fs.String("max-binary", env("TELEDERM_MAX_BINARY", "16MiB"), "largest Binary content (TELEDERM_MAX_BINARY)")
	maxBundle := fs.String("max-bundle", env("TELEDERM_MAX_BUNDLE", "64MiB"), "largest batch or transaction Bundle body (TELEDERM_MAX_BUNDLE)")
	fs.IntVar(&c.maxBundleEntries, "max-bundle-entries", envInt(getenv, "TELEDERM_MAX_BUNDLE_ENTRIES", 1000), "most entries in one batch or transaction (TELEDERM_MAX_BUNDLE_ENTRIES)")
	fs.StringVar(&c.store, "store", env("TELEDERM_STORE", ""), "where resources live: a MongoDB replica set or sharded cluster URI (mongodb://host1,host2/telederm?replicaSet=rs0), or empty for the embedded store in --data; with MongoDB, Binary content and the authorization server's state (clients, users, keys, tokens) are in the database too, and the audit trail stays in --data (TELEDERM_STORE)")
	fs.BoolVar(&c.mongoNonAtomic, "mongo-non-atomic-transactions", getenv("TELEDERM_MONGO_NON_ATOMIC_TRANSACTIONS") == "true", "on a MongoDB deployment without multi-document transactions (a standalone server), accept transaction Bundles and referrals that a crash or a concurrent writer can leave half applied; without it they are refused (TELEDERM_MONGO_NON_ATOMIC_TRANSACTIONS=true)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGTERM")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.maxBody, err = parseBytes(*maxBody); err != nil {
		return c, fmt.Errorf("--max-body: %w", err)
	}
	if c.maxBinary, err = parseBytes(*maxBinary); err != nil {
		return c, fmt.Errorf("--max-binary: %w", err)
	}
	if c.maxBundle, err = parseBytes(*maxBundle); err != nil {
		return c, fmt.Errorf("--max-bundle: %w", err)
	}
	if c.maxBundleEntries < 1 {
		return c, fmt.Errorf("--max-bundle-entries must be at least 1, not %d", c.maxBundleEntries)
	}
	if c.auth != "smart" && c.auth != "off" {
		return c, fmt.Errorf("--auth must be smart or off, not %q", c.auth)
	}
	if c.sync != "normal" && c.sync != "full" {
		return c, fmt.Errorf("--sync must be normal or full, not %q", c.sync)
	}
	if c.audit != "on" && c.audit != "off" {
		return c, fmt.Errorf("--audit must be on or off, not %q", c.audit)
	}
	if _, err := egress.ParseAllow(c.subscriptionsAllow); err != nil {
		return c, fmt.Errorf("--subscriptions-allow: %w", err)
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")
	return c, nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parseServeFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "telederm serve:", err)
		return 2
	}
	log := newLogger(stderr, cfg.logFormat)
	if getenv("GOGC") == "" {
		// A write allocates far more short-lived garbage than the server
		// keeps live, so the default GOGC=100 collects often: on ingest
		// into 100,000 resources, 200 took 8% less CPU per resource (GOGC
		// in the environment still wins).
		debug.SetGCPercent(gcPercent)
	}
	if err := runServer(ctx, cfg, log, stdout); err != nil {
		log.Error("server stopped", "err", err)
		return 1
	}
	return 0
}

func runServer(ctx context.Context, cfg serveConfig, log *slog.Logger, stdout io.Writer) error {
	switch cfg.auth {
	case "off":
		log.Warn("authorization is off: every client can read and write everything; use only for a sandbox or tests")
	case "smart":
		logAuthSetup(log, cfg.data, cfg.store)
	}
	if cfg.audit == "off" {
		log.Warn("the audit trail is off: requests leave no AuditEvent")
	}
	// Listen before anything else so that --addr :0 works and the default
	// base URL names the port actually bound.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.baseURL == "" {
		cfg.baseURL = defaultBaseURL(ln.Addr().String())
	}
	app, err := server.Open(ctx, server.Config{
		DataDir: cfg.data, BaseURL: cfg.baseURL, SyncFull: cfg.sync == "full", Auth: cfg.auth,
		MaxBodyBytes: cfg.maxBody, MaxBinaryBytes: cfg.maxBinary, Logger: log,
		MaxBundleBytes: cfg.maxBundle, MaxBundleEntries: cfg.maxBundleEntries,
		NoAudit: cfg.audit == "off", SubscriptionsAllow: cfg.subscriptionsAllow,
		TriageRules: cfg.triageRules, Holidays: cfg.holidays, ServiceOwner: cfg.serviceOwner,
		Store: cfg.store, MongoNonAtomicTransactions: cfg.mongoNonAtomic,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := app.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()
	srv := &http.Server{
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("telederm serving", "addr", ln.Addr().String(), "base_url", cfg.baseURL, "data", cfg.data, "version", version)
	fmt.Fprintf(stdout, "Telederm FHIR R4 server listening on %s\nBase URL: %s\n", ln.Addr(), cfg.baseURL)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}

// logAuthSetup says how many clients and users can use the server, and
// how to add the first when there are none.
func logAuthSetup(log *slog.Logger, dataDir, store string) {
	var clients []auth.Client
	var users []auth.User
	err := withAdmin(dataDir, store, func(ctx context.Context, a auth.Admin) (err error) {
		if clients, err = a.ListClients(ctx); err == nil {
			users, _ = a.ListUsers(ctx)
		}
		return err
	})
	if err != nil {
		return // server.Open reports a broken registry or an unreachable database
	}
	log.Info("authorization: SMART on FHIR", "clients", len(clients), "users", len(users))
	if len(clients) == 0 {
		where := "--data " + dataDir
		if mongoStore(store) {
			where = "--store <the same MongoDB URI>" // never the URI itself: it may hold a password
		}
		log.Warn("no clients are registered, so no one can get a token: add one with telederm clients add " + where)
	}
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// defaultBaseURL turns a listen address into the URL a local client uses.
func defaultBaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// parseBytes reads sizes such as 16MiB, 512KiB, 1048576.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 16MiB", s)
	}
	return n * mult, nil
}

// envInt reads an integer default from the environment; a value that is
// not a number is left for the flag parser to refuse.
func envInt(getenv func(string) string, name string, def int) int {
	if v := getenv(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return -1
	}
	return def
}
