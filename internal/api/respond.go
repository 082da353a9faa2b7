package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

// writeResponse writes an interaction's result with the FHIR headers.
func (s *server) writeResponse(w http.ResponseWriter, r *http.Request, f format, resp rest.Response) {
	noteResult(r, resp.Touched, resp.Outcome)
	if resp.Status == http.StatusForbidden && s.cfg.Auth != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="telederm", error="insufficient_scope"`)
	}
	writeVersionHeaders(w, resp)
	if resp.Location != "" {
		w.Header().Set("Location", resp.Location)
		if resp.Status == http.StatusCreated {
			w.Header().Set("Content-Location", resp.Location)
		}
	}
	if f.csv && resp.OK() && !strings.HasPrefix(resp.ContentType, mimeCSV) {
		o := fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported, "only report operations ($stats) answer in CSV; ask for FHIR JSON", "_format")
		f.csv = false
		s.writeResponse(w, r, f, rest.Response{Status: http.StatusNotAcceptable, Body: o.JSON(), Outcome: o})
		return
	}
	body := resp.Body
	if body == nil {
		w.WriteHeader(resp.Status)
		return
	}
	if resp.ContentType != "" { // raw Binary content
		w.Header().Set("Content-Type", resp.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(resp.Status)
		_, _ = w.Write(body)
		return
	}
	if f.pretty {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err == nil {
			body = buf.Bytes()
		}
	}
	w.Header().Set("Content-Type", f.contentType+"; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(body)
}

func (s *server) writeOutcome(w http.ResponseWriter, r *http.Request, f format, status int, o *fhir.Outcome) {
	s.writeResponse(w, r, f, rest.Response{Status: status, Body: o.JSON(), Outcome: o})
}

func writeVersionHeaders(w http.ResponseWriter, resp rest.Response) {
	if resp.Version > 0 {
		w.Header().Set("ETag", rest.ETag(resp.Version))
	}
	if !resp.LastUpdated.IsZero() {
		w.Header().Set("Last-Modified", resp.LastUpdated.UTC().Format(http.TimeFormat))
	}
}

// withPrefer applies the Prefer: return=... header to a successful write:
// minimal drops the body, OperationOutcome replaces it with an outcome,
// representation (the default) keeps the resource.
func withPrefer(r *http.Request, resp rest.Response) rest.Response {
	if !resp.OK() || resp.Body == nil {
		return resp
	}
	switch preferReturn(r) {
	case "minimal":
		resp.Body = nil
	case "OperationOutcome":
		o := fhir.NewOutcome(fhir.SeverityInformation, fhir.CodeInformation,
			fmt.Sprintf("%s: version %d written", strings.TrimSuffix(resp.Location, "/_history/"+strconv.FormatInt(resp.Version, 10)), resp.Version))
		resp.Body, resp.ContentType = o.JSON(), ""
	}
	return resp
}

func preferReturn(r *http.Request) string { return preferValue(r, "return") }

// preferValue reads one token of the Prefer header (return, handling ...).
func preferValue(r *http.Request, name string) string {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			for _, kv := range strings.Split(part, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), name) {
					return strings.Trim(strings.TrimSpace(v), `"`)
				}
			}
		}
	}
	return ""
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
