package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/audit"
)

// Token lifetimes when the Config leaves them zero.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultBackendTokenTTL = 5 * time.Minute // SMART Backend Services recommends five minutes
	DefaultOnlineRefresh   = 12 * time.Hour  // online_access: a working day's session
	DefaultOfflineRefresh  = 30 * 24 * time.Hour
	// DefaultTokenLifetime is the longest a JWT signed by this server
	// lives with default settings (access and id tokens): how long a
	// retired key stays published.
	DefaultTokenLifetime = DefaultAccessTokenTTL
)

// Lifetimes of the short-lived steps of a launch.
const (
	launchTTL = 5 * time.Minute
	codeTTL   = 60 * time.Second
	signInTTL = 15 * time.Minute // sign-in and approval pages
	// leeway absorbs clock differences between this server and its
	// clients when checking exp, iat and nbf.
	leeway = 30 * time.Second
	// maxAssertionLife is how far ahead a client assertion's exp may be.
	maxAssertionLife = 5 * time.Minute
)

// Config configures the authorization server.
type Config struct {
	// DataDir is the server's data directory; without a State, the
	// authorization server's files live in its auth/ subdirectory.
	DataDir string
	// State, when set, keeps the authorization server's state instead of
	// the data directory and memory: a State shared by several server
	// processes (MongoDB) lets them act as one. They then look for each
	// other's changes (revocations, clients, users, keys) about once a
	// second.
	State State
	// BaseURL is the FHIR base URL, no trailing slash: the issuer of every
	// token, the aud an app must ask for, and the root of the endpoints.
	BaseURL string
	Logger  *slog.Logger
	// Audit receives one event per authorization decision; nil records
	// nothing.
	Audit audit.Recorder
	// FindPatient resolves a patient identifier (system and value, e.g.
	// the NHS number) to a Patient id, for EHR launches that name the
	// patient by identifier. An error that wraps ErrNoPatient means no
	// single patient matched.
	FindPatient func(ctx context.Context, system, value string) (id string, err error)
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// HTTPClient fetches client JWKS published by URL; nil means a client
	// with a 10-second timeout.
	HTTPClient *http.Client
	// Token lifetimes; zero means the defaults above.
	AccessTokenTTL, BackendTokenTTL, OnlineRefreshTTL, OfflineRefreshTTL time.Duration
	// KeyRotation is the age at which the signing key is replaced; zero
	// means DefaultKeyRotation, negative never.
	KeyRotation time.Duration
}

// ErrNoPatient is what FindPatient wraps when no single patient matches.
var ErrNoPatient = errors.New("no single patient matches")

// Server is the authorization server. It is safe for concurrent use.
type Server struct {
	cfg     Config
	dir     string
	base    string
	log     *slog.Logger
	now     func() time.Time
	http    *http.Client
	handler http.Handler

	state  State
	shared bool // other processes may change state: poll for their changes

	keys   atomic.Pointer[keyring]
	keysMu sync.Mutex // serialises reloads and rotations
	// keysPolled is when the keys were last compared with the state's
	// before signing, kidPolled because a token named an unknown kid
	// (monotonic time).
	keysPolled, kidPolled time.Time

	clients  *clientRegistry
	users    *userStore
	revoked  *revocationList
	refresh  *refreshStore
	verified *grantCache
	codes    *codeStore

	discovery []byte // /.well-known/smart-configuration, rendered once
	openid    []byte // /.well-known/openid-configuration
}

// Open loads (or creates) the authorization server's state in cfg.State,
// or else under cfg.DataDir.
func Open(cfg Config) (*Server, error) {
	if (cfg.DataDir == "" && cfg.State == nil) || cfg.BaseURL == "" {
		return nil, errors.New("auth: DataDir (or State) and BaseURL are required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("auth: base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	s := &Server{cfg: cfg, dir: Dir(cfg.DataDir), base: strings.TrimRight(cfg.BaseURL, "/"), log: cfg.Logger, now: cfg.Now, http: cfg.HTTPClient}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.http == nil {
		s.http = &http.Client{Timeout: 10 * time.Second}
	}
	s.cfg.AccessTokenTTL = orDefault(cfg.AccessTokenTTL, DefaultAccessTokenTTL)
	s.cfg.BackendTokenTTL = orDefault(cfg.BackendTokenTTL, DefaultBackendTokenTTL)
	s.cfg.OnlineRefreshTTL = orDefault(cfg.OnlineRefreshTTL, DefaultOnlineRefresh)
	s.cfg.OfflineRefreshTTL = orDefault(cfg.OfflineRefreshTTL, DefaultOfflineRefresh)
	s.cfg.KeyRotation = orDefault(cfg.KeyRotation, DefaultKeyRotation)
	s.state, s.shared = cfg.State, cfg.State != nil
	if s.state == nil {
		s.state = newFileState(s.dir, s.now)
	}

	ctx, cancel := stateCtx()
	defer cancel()
	if s.shared && cfg.DataDir != "" {
		err := adoptFiles(ctx, s.state, s.dir, func(doc string) {
			s.log.Info("auth: copied the data directory's "+doc+" into the shared state, which keeps them from now on", "dir", s.dir)
		})
		if err != nil {
			return nil, fmt.Errorf("auth: copy %s into the shared state: %w", s.dir, err)
		}
	}
	ring, err := loadKeysFrom(ctx, s.state, s.now(), max(s.cfg.KeyRotation, 0), s.keyLifetime())
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	s.keys.Store(ring)
	s.keysPolled = time.Now()
	if s.clients, err = openClientRegistry(s.state, s.shared, s.http, s.now); err != nil {
		return nil, fmt.Errorf("auth: clients: %w", err)
	}
	s.users = &userStore{st: s.state, shared: s.shared}
	if s.revoked, err = openRevocationList(s.state, s.shared, s.now, s.log); err != nil {
		return nil, fmt.Errorf("auth: revoked tokens: %w", err)
	}
	s.refresh = &refreshStore{st: s.state, now: s.now, keep: max(s.cfg.OfflineRefreshTTL, s.cfg.OnlineRefreshTTL)}
	s.verified = newGrantCache(1 << 15)
	s.codes = &codeStore{st: s.state, remember: s.cfg.AccessTokenTTL + leeway}
	if s.discovery, s.openid, err = s.discoveryDocuments(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// keyLifetime is how long a retired key must stay published: the longest
// lifetime of a JWT it signed, plus the leeway verifiers allow.
func (s *Server) keyLifetime() time.Duration {
	return max(s.cfg.AccessTokenTTL, s.cfg.BackendTokenTTL) + leeway + time.Minute
}

// signingKeys returns the keyring to sign with, first picking up a key
// rotated elsewhere (`telederm keys rotate`, or another process on a
// shared state) or rotating a key that has grown too old. Only issuing a
// token calls it: verifying one reads the state only for a kid this
// process does not know (verifyingKey). On a shared
// state the version is compared at most once per pollEvery; with files,
// every time (a read of a small file).
func (s *Server) signingKeys() (*keyring, error) {
	ring := s.keys.Load()
	now := s.now()
	tooOld := s.cfg.KeyRotation > 0 && now.Sub(ring.created) > s.cfg.KeyRotation
	prunable := !ring.pruneAt.IsZero() && now.After(ring.pruneAt)
	if !tooOld && !prunable && !s.keysChanged(ring) {
		return ring, nil
	}
	return s.reloadKeys(now)
}

// keysChanged reports whether the keys document is no longer the version
// of ring (checked at most once per pollEvery on a shared state).
func (s *Server) keysChanged(ring *keyring) bool {
	s.keysMu.Lock()
	if s.shared && time.Since(s.keysPolled) < pollEvery {
		s.keysMu.Unlock()
		return false
	}
	s.keysPolled = time.Now()
	s.keysMu.Unlock()
	ctx, cancel := stateCtx()
	defer cancel()
	v, err := s.state.DocVersion(ctx, docKeys)
	if err != nil {
		s.log.Error("read signing keys version", "err", err)
		return false // sign with the keys at hand
	}
	return v != ring.version
}

// reloadKeys reads the keys again, rotating or pruning them when due.
func (s *Server) reloadKeys(now time.Time) (*keyring, error) {
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	ctx, cancel := stateCtx()
	defer cancel()
	fresh, err := loadKeysFrom(ctx, s.state, now, max(s.cfg.KeyRotation, 0), s.keyLifetime())
	if err != nil {
		return nil, err
	}
	s.keys.Store(fresh)
	s.keysPolled = time.Now()
	return fresh, nil
}

// verifyingKey finds the public key of a kid. A kid this process does not
// know may be another process's new key: the keys are read again, at
// most once per pollEvery, so a forged kid cannot make every request
// read the state.
func (s *Server) verifyingKey(kid string) (*rsa.PublicKey, bool) {
	if key, ok := s.keys.Load().public[kid]; ok {
		return key, true
	}
	s.keysMu.Lock()
	due := time.Since(s.kidPolled) >= pollEvery
	if due {
		s.kidPolled = time.Now()
	}
	s.keysMu.Unlock()
	if !due {
		return nil, false
	}
	ctx, cancel := stateCtx()
	defer cancel()
	v, err := s.state.DocVersion(ctx, docKeys)
	if err != nil || v == s.keys.Load().version {
		return nil, false
	}
	ring, err := s.reloadKeys(s.now())
	if err != nil {
		s.log.Error("reload signing keys", "err", err)
		return nil, false
	}
	key, ok := ring.public[kid]
	return key, ok
}

// Handler serves the authorization server's endpoints: /.well-known/*,
// /jwks and /auth/*. Mount it in front of the FHIR API for the paths
// IsAuthPath accepts.
func (s *Server) Handler() http.Handler { return s.handler }

// IsAuthPath reports whether a request path belongs to the authorization
// server rather than the FHIR API.
func IsAuthPath(p string) bool {
	return strings.HasPrefix(p, "/.well-known/") || p == "/jwks" || strings.HasPrefix(p, "/auth/")
}

// Endpoint URLs.
func (s *Server) url(path string) string { return s.base + path }

const (
	pathAuthorize  = "/auth/authorize"
	pathToken      = "/auth/token"
	pathLaunch     = "/auth/launch"
	pathIntrospect = "/auth/introspect"
	pathRevoke     = "/auth/revoke"
	pathManage     = "/auth/manage"
	pathSignIn     = "/auth/signin"
	pathApprove    = "/auth/approve"
	pathJWKS       = "/jwks"
)

// SecurityCapability is what the CapabilityStatement advertises in
// rest.security: the SMART oauth-uris and CORS.
func (s *Server) SecurityCapability() *fhir.SecurityCapability {
	return &fhir.SecurityCapability{
		CORS:       true,
		Authorize:  s.url(pathAuthorize),
		Token:      s.url(pathToken),
		Revoke:     s.url(pathRevoke),
		Introspect: s.url(pathIntrospect),
		Manage:     s.url(pathManage),
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/smart-configuration", s.smartConfiguration)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.openidConfiguration)
	mux.HandleFunc("GET "+pathJWKS, s.jwks)
	mux.HandleFunc("POST "+pathLaunch, s.launch)
	mux.HandleFunc("GET "+pathAuthorize, s.authorize)
	mux.HandleFunc("POST "+pathAuthorize, s.authorize)
	mux.HandleFunc("POST "+pathSignIn, s.signIn)
	mux.HandleFunc("POST "+pathApprove, s.approve)
	mux.HandleFunc("POST "+pathToken, s.token)
	mux.HandleFunc("POST "+pathIntrospect, s.introspect)
	mux.HandleFunc("POST "+pathRevoke, s.revoke)
	mux.HandleFunc("GET "+pathManage, s.manage)
	mux.HandleFunc("POST "+pathManage, s.manage)
	return s.logRequests(mux)
}

// logRequests logs one line per request with the route pattern, never the
// path or query, which carry codes and tokens.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.log.Info("auth request", "method", r.Method, "route", route, "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
