package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

func (s *server) create(w http.ResponseWriter, r *http.Request, f format) {
	typ := mux.Vars(r)["type"]
	kind, mt := requestBodyKind(r)
	body, ok := s.readBody(w, r, f)
	if !ok {
		return
	}
	var resp rest.Response
	switch {
	case kind == bodyFHIRJSON && r.Header.Get("If-None-Exist") != "":
		resp = s.svc.ConditionalCreate(r.Context(), typ, body, r.Header.Get("If-None-Exist"))
	case kind == bodyFHIRJSON:
		resp = s.svc.Create(r.Context(), typ, body)
	case typ == "Binary" && kind != bodyJSONPatch:
		resp = s.svc.CreateBinary(r.Context(), mt, body)
	default:
		s.unsupportedMediaType(w, r, f, mt)
		return
	}
	s.writeResponse(w, r, f, withPrefer(r, resp))
}

func (s *server) read(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	var resp rest.Response
	if v["type"] == "Binary" && !f.fhir {
		resp = s.svc.ReadBinaryContent(r.Context(), v["id"])
	} else {
		resp = s.svc.Read(r.Context(), v["type"], v["id"])
	}
	s.writeRead(w, r, f, resp)
}

func (s *server) vread(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	s.writeRead(w, r, f, s.svc.VRead(r.Context(), v["type"], v["id"], v["vid"]))
}

// writeRead answers a read, or 304 when the client's copy is current.
func (s *server) writeRead(w http.ResponseWriter, r *http.Request, f format, resp rest.Response) {
	if resp.OK() && notModified(r, resp) {
		writeVersionHeaders(w, resp)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.writeResponse(w, r, f, resp)
}

func (s *server) update(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	kind, mt := requestBodyKind(r)
	body, ok := s.readBody(w, r, f)
	if !ok {
		return
	}
	ifMatch := r.Header.Get("If-Match")
	var resp rest.Response
	switch {
	case kind == bodyFHIRJSON:
		resp = s.svc.Update(r.Context(), v["type"], v["id"], body, ifMatch)
	case v["type"] == "Binary" && kind != bodyJSONPatch:
		resp = s.svc.UpdateBinary(r.Context(), v["id"], mt, body, ifMatch)
	default:
		s.unsupportedMediaType(w, r, f, mt)
		return
	}
	s.writeResponse(w, r, f, withPrefer(r, resp))
}

func (s *server) patch(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	kind, mt := requestBodyKind(r)
	jsonArray := func(b []byte) bool {
		for _, c := range b {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return c == '['
			}
		}
		return false
	}
	unsupported := func(got string) {
		s.writeOutcome(w, r, f, http.StatusUnsupportedMediaType, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
			"PATCH takes a JSON Patch document (Content-Type application/json-patch+json) or a FHIRPath Patch "+
				"Parameters resource (Content-Type application/fhir+json), not "+got))
	}
	if kind != bodyJSONPatch && kind != bodyFHIRJSON {
		unsupported(orNone(mt))
		return
	}
	body, ok := s.readBody(w, r, f)
	if !ok {
		return
	}
	var resp rest.Response
	switch {
	case kind == bodyJSONPatch:
		resp = s.svc.PatchJSON(r.Context(), v["type"], v["id"], body, r.Header.Get("If-Match"))
	case jsonArray(body):
		// A JSON Patch sent as FHIR JSON, which is always an object: the
		// media type, not the patch, is wrong.
		unsupported("a JSON array labelled " + orNone(mt))
		return
	default:
		resp = s.svc.PatchFHIRPath(r.Context(), v["type"], v["id"], body, r.Header.Get("If-Match"))
	}
	s.writeResponse(w, r, f, withPrefer(r, resp))
}

func (s *server) delete(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	s.writeResponse(w, r, f, s.svc.Delete(r.Context(), v["type"], v["id"], r.Header.Get("If-Match")))
}

func (s *server) historySystem(w http.ResponseWriter, r *http.Request, f format) {
	s.writeResponse(w, r, f, s.svc.History(r.Context(), "", "", r.URL.Query()))
}

func (s *server) historyType(w http.ResponseWriter, r *http.Request, f format) {
	s.writeResponse(w, r, f, s.svc.History(r.Context(), mux.Vars(r)["type"], "", r.URL.Query()))
}

func (s *server) historyInstance(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	s.writeResponse(w, r, f, s.svc.History(r.Context(), v["type"], v["id"], r.URL.Query()))
}

// readBody reads the request body up to the configured cap; past it the
// client gets 413 and nothing is processed.
func (s *server) readBody(w http.ResponseWriter, r *http.Request, f format) ([]byte, bool) {
	return s.readBodyUpTo(w, r, f, s.cfg.MaxBodyBytes)
}

func (s *server) readBodyUpTo(w http.ResponseWriter, r *http.Request, f format, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.writeOutcome(w, r, f, http.StatusRequestEntityTooLarge, fhir.NewOutcome(fhir.SeverityError, fhir.CodeTooLong,
			"the request body is over the limit of "+byteCount(tooBig.Limit)))
		return nil, false
	case err != nil:
		s.writeOutcome(w, r, f, http.StatusBadRequest, fhir.NewOutcome(fhir.SeverityError, fhir.CodeStructure, "the request body could not be read"))
		return nil, false
	}
	return body, true
}

func (s *server) unsupportedMediaType(w http.ResponseWriter, r *http.Request, f format, mt string) {
	msg := "this server accepts FHIR JSON only (application/fhir+json), not " + orNone(mt)
	if mux.Vars(r)["type"] == "Binary" {
		msg = "Binary content cannot be sent as " + orNone(mt)
	}
	s.writeOutcome(w, r, f, http.StatusUnsupportedMediaType, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported, msg))
}

// notModified applies If-None-Match and If-Modified-Since to a read.
func notModified(r *http.Request, resp rest.Response) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		want, ok := rest.ParseETag(inm)
		return ok && want == resp.Version
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !resp.LastUpdated.IsZero() {
		t, err := http.ParseTime(ims)
		// HTTP dates have whole seconds: compare at that precision.
		return err == nil && !resp.LastUpdated.Truncate(time.Second).After(t)
	}
	return false
}

func orNone(mt string) string {
	if mt == "" {
		return "(no content type)"
	}
	return mt
}

// bundle takes a batch or transaction Bundle (POST to the base URL).
func (s *server) bundle(w http.ResponseWriter, r *http.Request, f format) {
	if kind, mt := requestBodyKind(r); kind != bodyFHIRJSON {
		s.unsupportedMediaType(w, r, f, mt)
		return
	}
	body, ok := s.readBodyUpTo(w, r, f, s.cfg.MaxBundleBytes)
	if !ok {
		return
	}
	if kind := bundleKind(body); kind != "" {
		noteAction(r, kind)
	}
	s.writeResponse(w, r, f, s.svc.Bundle(r.Context(), body, rest.BundleOptions{Return: preferReturn(r), Strict: preferStrict(r)}))
}

// bundleKind reads a Bundle's type ("batch" or "transaction") for the
// audit trail, without decoding the entries: it stops at the type, which
// clients write before them. "" when the body says neither.
func bundleKind(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return ""
		}
		if key != "type" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return ""
			}
			continue
		}
		var typ string
		if dec.Decode(&typ) != nil || (typ != "batch" && typ != "transaction") {
			return ""
		}
		return typ
	}
	return ""
}
