package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/telederm/telederm/fhir"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeInfoKey
)

// routeInfo is filled in by the router-side wrapper so the outer middleware,
// which runs before routing, can log which route served the request.
type routeInfo struct {
	template, resourceType string
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
		}()
		next.ServeHTTP(rec, r)
	})
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
