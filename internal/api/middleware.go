package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/audit"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeInfoKey
)

// routeInfo is filled in by the router-side wrapper so the outer middleware,
// which runs before routing, can log and audit which route served the
// request, for whom, and what it touched.
type routeInfo struct {
	template, resourceType string
	grant                  *access.Grant
	touched                []string // Type/id of the resources the response is about
	detail                 string   // why the request failed
	action                 string   // the interaction, where the route cannot tell (batch or transaction)
}

// noteAction records the interaction for the audit trail when the route
// alone does not say which it is.
func noteAction(r *http.Request, action string) {
	if info, _ := r.Context().Value(routeInfoKey).(*routeInfo); info != nil {
		info.action = action
	}
}

// noteGrant records the caller for the audit trail.
func noteGrant(r *http.Request, g *access.Grant) {
	if info, _ := r.Context().Value(routeInfoKey).(*routeInfo); info != nil {
		info.grant = g
	}
}

// noteResult records what a response touched and why it failed.
func noteResult(r *http.Request, touched []string, o *fhir.Outcome) {
	info, _ := r.Context().Value(routeInfoKey).(*routeInfo)
	if info == nil {
		return
	}
	info.touched = touched
	if o != nil && len(o.Issue) > 0 {
		info.detail = o.Issue[0].Diagnostics
	}
}

// noteRoute records the matched route template and resource type for the
// request log.
func noteRoute(r *http.Request) {
	info, _ := r.Context().Value(routeInfoKey).(*routeInfo)
	if info == nil {
		return
	}
	if m := mux.CurrentRoute(r); m != nil {
		if t, err := m.GetPathTemplate(); err == nil {
			info.template = t
		}
	}
	if t := mux.Vars(r)["type"]; fhir.IsResourceType(t) {
		info.resourceType = t
	}
}

// RequestID returns the id of the request being served, for log lines.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// middleware gives every request an id (X-Request-Id, taken from the client
// when it is a short token), logs one line per request and turns panics
// into 500 OperationOutcomes. The log line has the route template, never
// the path or query: they can carry identifiers and search terms about
// patients.
func (s *server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		info := &routeInfo{template: "unmatched"}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), routeInfoKey, info)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(ctx, "panic serving request", "request_id", id, "panic", p)
				if !rec.wrote {
					s.writeOutcome(rec, r, format{contentType: mimeFHIRJSON}, http.StatusInternalServerError,
						fhir.NewOutcome(fhir.SeverityFatal, fhir.CodeException, "internal server error"))
				}
			}
			attrs := []any{"request_id", id, "method", r.Method, "route", info.template, "status", rec.status,
				"bytes", rec.bytes, "duration_ms", float64(time.Since(start).Microseconds()) / 1000}
			if info.resourceType != "" {
				attrs = append(attrs, "resource_type", info.resourceType)
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			s.log.Log(ctx, level, "request", attrs...)
			s.audit(r, info, rec.status, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// audit records one FHIR interaction. Health checks are not interactions.
func (s *server) audit(r *http.Request, info *routeInfo, status int, start time.Time) {
	if s.cfg.Audit == nil || info.template == "/healthz" || info.template == "/readyz" {
		return
	}
	action := info.action
	if action == "" {
		action = interaction(r.Method, info.template)
	}
	e := audit.Event{
		Time: start, Action: action, Method: r.Method, Route: info.template,
		Type: info.resourceType, Status: status, Source: remoteHost(r), RequestID: RequestID(r.Context()),
		Entities: info.touched,
	}
	if status >= 400 {
		e.Detail = info.detail
	}
	if g := info.grant; g != nil {
		e.ClientID, e.Subject, e.FHIRUser, e.Patient = g.ClientID, g.Subject, g.FHIRUser, g.Patient
	}
	s.cfg.Audit.Record(r.Context(), e)
}

// interaction names the FHIR interaction a route and method serve.
func interaction(method, template string) string {
	switch {
	case template == "/metadata":
		return "capabilities"
	case strings.Contains(template, "$"):
		return "operation"
	case template == "/":
		if method == http.MethodPost {
			return "batch-transaction"
		}
		return "search-system"
	case template == "/_search":
		return "search-system"
	case template == "/_history":
		return "history-system"
	case template == "/{type}/_history":
		return "history-type"
	case strings.HasSuffix(template, "/_history/{vid}"):
		return "vread"
	case strings.HasSuffix(template, "/_history"):
		return "history-instance"
	case strings.Contains(template, "{ctype"):
		return "search-compartment"
	case template == "/{type}" || template == "/{type}/_search":
		switch method {
		case http.MethodPost:
			if template == "/{type}" {
				return "create"
			}
			return "search-type"
		case http.MethodPut:
			return "update"
		case http.MethodDelete:
			return "delete"
		}
		return "search-type"
	case strings.HasPrefix(template, "/{type}/{id"):
		switch method {
		case http.MethodPut:
			return "update"
		case http.MethodPatch:
			return "patch"
		case http.MethodDelete:
			return "delete"
		}
		return "read"
	}
	return "unknown"
}

func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
