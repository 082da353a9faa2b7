// Package api is the HTTP face of the server: routes, content negotiation,
// FHIR headers (ETag, Location, Prefer, conditional requests) and errors as
// OperationOutcomes. It is the only package that imports gorilla/mux; the
// interactions themselves live in internal/rest.
package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/audit"
	"github.com/telederm/telederm/internal/rest"
)

// Config configures the HTTP layer.
type Config struct {
	// MaxBodyBytes caps request bodies; larger ones get 413.
	MaxBodyBytes int64
	// MaxBundleBytes caps batch and transaction Bundles, which carry many
	// resources (photos included) in one body.
	MaxBundleBytes int64
	Logger         *slog.Logger
	// Ready reports whether the server can serve requests (/readyz).
	Ready func(ctx context.Context) error
	// Auth checks bearer tokens on every FHIR endpoint but /metadata; nil
	// means authorization is off (a sandbox): every request may do
	// everything.
	Auth Authenticator
	// Security is advertised in the CapabilityStatement (SMART oauth-uris);
	// nil when authorization is off.
	Security *fhir.SecurityCapability
	// Audit receives one event per FHIR interaction; nil records nothing.
	Audit audit.Recorder
}

// Authenticator checks the bearer token of a FHIR request.
type Authenticator interface {
	// Authenticate returns the caller's grant. An error means the request
	// gets 401 (WWW-Authenticate: Bearer error="invalid_token"); its text
	// is sent as the error_description, so it must not echo the token.
	Authenticate(r *http.Request) (*access.Grant, error)
}

// DefaultMaxBodyBytes is the request body cap when none is configured.
const DefaultMaxBodyBytes = 16 << 20

// DefaultMaxBundleBytes is the batch and transaction body cap when none is
// configured.
const DefaultMaxBundleBytes = 64 << 20

type server struct {
	svc        *rest.Service
	cfg        Config
	log        *slog.Logger
	capability []byte // rendered once: it only changes with the code
}

// New returns the HTTP handler for the FHIR API.
func New(svc *rest.Service, cfg Config) http.Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBundleBytes <= 0 {
		cfg.MaxBundleBytes = DefaultMaxBundleBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	caps := svc.Capabilities(time.Now())
	caps.Security = cfg.Security
	s := &server{
		svc:        svc,
		cfg:        cfg,
		log:        cfg.Logger,
		capability: fhir.CapabilityStatement(caps),
	}
	return s.routes()
}

// instance is the path of one resource. Ids never start with "_": that
// prefix is FHIR's for system paths (_history, _search), which must not be
// taken for an id.
const instance = "/{type}/{id:[^_/][^/]*}"

func (s *server) routes() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)

	r.HandleFunc("/metadata", s.public(s.metadata)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/_history", s.fhir(s.historySystem)).Methods(http.MethodGet)
	r.HandleFunc("/", s.fhir(s.bundle)).Methods(http.MethodPost)
	r.HandleFunc("/", s.fhir(s.searchSystem)).Methods(http.MethodGet)
	r.HandleFunc("/_search", s.fhir(s.searchSystem)).Methods(http.MethodPost)
	// Operations ($validate, $meta, $everything ...), before /{type} and the
	// instance routes, which would take "$validate" for an id. Any method
	// matches, so that an operation answers 405 itself rather than a PUT
	// falling through to update.
	ops := s.operations()
	r.HandleFunc("/"+opPattern, s.fhir(s.operation(ops, opSystem)))
	r.HandleFunc("/{type}/"+opPattern, s.fhir(s.operation(ops, opType)))
	r.HandleFunc(instance+"/"+opPattern, s.fhir(s.operation(ops, opInstance)))
	r.HandleFunc("/{type}", s.fhir(s.create)).Methods(http.MethodPost)
	r.HandleFunc("/{type}", s.fhir(s.searchType)).Methods(http.MethodGet)
	r.HandleFunc("/{type}", s.fhir(s.conditionalUpdate)).Methods(http.MethodPut)
	r.HandleFunc("/{type}", s.fhir(s.conditionalDelete)).Methods(http.MethodDelete)
	r.HandleFunc("/{type}/_search", s.fhir(s.searchType)).Methods(http.MethodPost)
	r.HandleFunc("/{type}/_history", s.fhir(s.historyType)).Methods(http.MethodGet)
	r.HandleFunc(instance, s.fhir(s.read)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(instance, s.fhir(s.update)).Methods(http.MethodPut)
	r.HandleFunc(instance, s.fhir(s.patch)).Methods(http.MethodPatch)
	r.HandleFunc(instance, s.fhir(s.delete)).Methods(http.MethodDelete)
	r.HandleFunc(instance+"/_history", s.fhir(s.historyInstance)).Methods(http.MethodGet)
	r.HandleFunc(instance+"/_history/{vid}", s.fhir(s.vread)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(instance+"/{ctype:[A-Z*][^/]*}", s.fhir(s.compartmentSearch)).Methods(http.MethodGet)

	r.NotFoundHandler = s.fhir(func(w http.ResponseWriter, r *http.Request, f format) {
		s.writeOutcome(w, r, f, http.StatusNotFound, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotFound, "no FHIR endpoint at "+r.URL.Path))
	})
	r.MethodNotAllowedHandler = s.fhir(func(w http.ResponseWriter, r *http.Request, f format) {
		s.writeOutcome(w, r, f, http.StatusMethodNotAllowed, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported, r.Method+" is not allowed on "+r.URL.Path))
	})
	return s.middleware(r)
}

// handlerFunc is a FHIR handler that has passed content negotiation.
type handlerFunc func(w http.ResponseWriter, r *http.Request, f format)

// fhir wraps a handler with content negotiation and authentication: a
// request without a valid token gets 401, and a client that accepts only
// formats this server does not produce gets 406, before anything runs.
func (s *server) fhir(h handlerFunc) http.HandlerFunc {
	return s.negotiated(h, true)
}

// public is fhir without authentication, for /metadata, which clients read
// to discover how to authenticate.
func (s *server) public(h handlerFunc) http.HandlerFunc {
	return s.negotiated(h, false)
}

func (s *server) negotiated(h handlerFunc, authenticate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		noteRoute(r)
		f, ok := negotiate(r)
		if !ok {
			f = format{contentType: mimeFHIRJSON}
		}
		if authenticate && s.cfg.Auth != nil {
			g, err := s.cfg.Auth.Authenticate(r)
			if err != nil {
				s.unauthorized(w, r, f, err)
				return
			}
			noteGrant(r, g)
			r = r.WithContext(access.NewContext(r.Context(), g))
		}
		if !ok {
			s.writeOutcome(w, r, f, http.StatusNotAcceptable, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
				"this server produces FHIR JSON only (application/fhir+json); XML and other formats are not supported"))
			return
		}
		h(w, r, f)
	}
}

// unauthorized answers 401 as RFC 6750 says, with an OperationOutcome.
func (s *server) unauthorized(w http.ResponseWriter, r *http.Request, f format, err error) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="telederm", error="invalid_token", error_description=%q`, err.Error()))
	s.writeOutcome(w, r, f, http.StatusUnauthorized, fhir.NewOutcome(fhir.SeverityError, fhir.CodeLogin, err.Error()))
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *server) metadata(w http.ResponseWriter, r *http.Request, f format) {
	s.writeResponse(w, r, f, rest.Response{Status: http.StatusOK, Body: s.capability})
}
