// Package rest implements the FHIR RESTful interactions independently of
// HTTP: every method takes plain values and returns a Response (status,
// resource or OperationOutcome, version headers). internal/api maps HTTP onto
// it; batch and transaction entries will reuse it the same way.
package rest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// Blobs keeps Binary content outside the resource rows.
type Blobs interface {
	Put(ctx context.Context, data []byte) (ref string, err error)
	Get(ctx context.Context, ref string) ([]byte, error)
}

// Config configures a Service.
type Config struct {
	// BaseURL is the public base URL, written into Location, fullUrl and
	// paging links (no trailing slash).
	BaseURL string
	// MaxBinaryBytes caps Binary content; 0 means no cap here (the HTTP layer
	// still caps request bodies).
	MaxBinaryBytes int64
	// MaxBundleEntries caps the entries of a batch or transaction; 0 means
	// DefaultMaxBundleEntries.
	MaxBundleEntries int
	Logger           *slog.Logger
	// Registry is the search-parameter registry; nil means the R4 default.
	Registry *search.Registry
	// AuditTrail serves AuditEvent reads and searches; nil leaves them to
	// the repository (where nothing writes them).
	AuditTrail AuditTrail
	// WriteCheckers vet versions of their resource type before they are
	// written (hooks.go); nil or no entry for a type means no check.
	WriteCheckers map[string]WriteChecker
	// Operations are operations implemented outside this package; the
	// HTTP layer routes them and the CapabilityStatement lists them.
	Operations []Operation
	// CommitHook, when set, sees every commit before it is written and may
	// amend it (commit.go): the teledermatology workflow.
	CommitHook CommitHook
	// Profiles validates resources against the profiles the server
	// publishes: in $validate, and on every write of a resource whose
	// meta.profile claims one of them. Nil means none are published.
	Profiles ProfileValidator
	// AccessPolicy, when set, narrows user/ scopes beyond what SMART
	// scopes say (hooks.go).
	AccessPolicy AccessPolicy
	// Advertise, when set, adds to the CapabilityStatement what the
	// parts outside this package support (extensions, profiles).
	Advertise func(*fhir.Capabilities)
	// Now and NewID are for tests; nil means the wall clock and random ids.
	Now   func() time.Time
	NewID func() string
}

// AuditTrail serves the read-only AuditEvent resources of the audit trail,
// which live outside the repository. The Service checks the caller's
// scopes before it asks.
type AuditTrail interface {
	ReadAuditEvent(ctx context.Context, id string) Response
	// SearchAuditEvents answers a search of AuditEvent; strict is Prefer:
	// handling=strict (unknown parameters are errors).
	SearchAuditEvents(ctx context.Context, params url.Values, strict bool) Response
}

// Service runs the interactions against a Repository.
type Service struct {
	repo     store.Repository
	blobs    Blobs
	codec    *fhir.Codec
	registry *search.Registry
	indexer  *search.Indexer
	cfg      Config
	log      *slog.Logger
	// creating serialises conditional creates on the same criteria;
	// writing serialises this process's writes of one resource.
	creating, writing keyedLocks
	// compartmentLinks test what places a resource in a Patient
	// compartment, for the scope checks of patient-confined tokens; built
	// on first use.
	compartmentLinks func() *linkExprs
}

// New returns a Service.
func New(repo store.Repository, blobs Blobs, codec *fhir.Codec, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = newID
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := cfg.Registry
	if reg == nil {
		reg = search.Default()
	}
	return &Service{
		repo: repo, blobs: blobs, codec: codec, cfg: cfg, log: log,
		registry: reg, indexer: search.NewIndexer(reg, cfg.BaseURL),
		compartmentLinks: sync.OnceValue(func() *linkExprs { return newLinkExprs(reg, cfg.BaseURL) }),
	}
}

// Response is the result of one interaction.
type Response struct {
	Status int
	// Body is FHIR JSON (a resource, a Bundle or an OperationOutcome), or raw
	// Binary content when ContentType is set. Nil when there is no body.
	Body []byte
	// ContentType is set only for raw Binary content.
	ContentType string
	// Outcome is set when Body is an OperationOutcome reporting a failure.
	Outcome *fhir.Outcome
	// Version and LastUpdated describe the resource version the response is
	// about (ETag and Last-Modified); zero when there is none.
	Version     int64
	LastUpdated time.Time
	// Location is the absolute URL of the version written (create, update).
	Location string
	// Touched lists the resources the interaction read, wrote or returned,
	// as Type/id, for the audit trail.
	Touched []string
}

// OK reports whether the interaction succeeded.
func (r Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

func failure(status int, o *fhir.Outcome) Response {
	return Response{Status: status, Body: o.JSON(), Outcome: o}
}

func fail(status int, code, diagnostics string, expression ...string) Response {
	return failure(status, fhir.NewOutcome(fhir.SeverityError, code, diagnostics, expression...))
}

// internalError logs the cause (never resource content) and hides it from
// the client.
func (s *Service) internalError(ctx context.Context, op string, err error) Response {
	s.log.ErrorContext(ctx, "interaction failed", "op", op, "err", err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fail(http.StatusServiceUnavailable, fhir.CodeException, "the request was cancelled or timed out")
	}
	return fail(http.StatusInternalServerError, fhir.CodeException, "internal server error")
}

func (s *Service) checkType(typ string) (Response, bool) {
	if !fhir.IsResourceType(typ) {
		return fail(http.StatusNotFound, fhir.CodeNotSupported, fmt.Sprintf("unknown resource type %q", typ)), false
	}
	return Response{}, true
}

func (s *Service) checkID(typ, id string) (Response, bool) {
	if !validID(id) {
		return fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("%q is not a valid resource id (1-64 of A-Z a-z 0-9 - .)", id), typ+".id"), false
	}
	return Response{}, true
}

func (s *Service) resourceURL(typ, id string) string {
	return s.cfg.BaseURL + "/" + typ + "/" + id
}

func (s *Service) versionURL(typ, id string, v int64) string {
	return fmt.Sprintf("%s/%s/%s/_history/%d", s.cfg.BaseURL, typ, id, v)
}
