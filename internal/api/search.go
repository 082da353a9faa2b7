package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

func (s *server) searchType(w http.ResponseWriter, r *http.Request, f format) {
	params, ok := s.searchParams(w, r, f)
	if !ok {
		return
	}
	s.writeResponse(w, r, f, s.svc.Search(r.Context(), mux.Vars(r)["type"], params, rest.SearchOptions{Strict: preferStrict(r)}))
}

func (s *server) searchSystem(w http.ResponseWriter, r *http.Request, f format) {
	params, ok := s.searchParams(w, r, f)
	if !ok {
		return
	}
	s.writeResponse(w, r, f, s.svc.Search(r.Context(), "", params, rest.SearchOptions{Strict: preferStrict(r)}))
}

func (s *server) compartmentSearch(w http.ResponseWriter, r *http.Request, f format) {
	v := mux.Vars(r)
	s.writeResponse(w, r, f, s.svc.CompartmentSearch(r.Context(), v["type"], v["id"], v["ctype"], r.URL.Query(), rest.SearchOptions{Strict: preferStrict(r)}))
}

// searchParams merges the query string with a form-encoded POST body
// (POST [type]/_search), as the spec allows both at once.
func (s *server) searchParams(w http.ResponseWriter, r *http.Request, f format) (url.Values, bool) {
	params := r.URL.Query()
	if r.Method != http.MethodPost {
		return params, true
	}
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		s.writeOutcome(w, r, f, http.StatusUnsupportedMediaType, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported,
			"POST _search takes application/x-www-form-urlencoded parameters, not "+ct))
		return nil, false
	}
	body, ok := s.readBody(w, r, f)
	if !ok {
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.writeOutcome(w, r, f, http.StatusBadRequest, fhir.NewOutcome(fhir.SeverityError, fhir.CodeStructure, "the form body could not be read: "+err.Error()))
		return nil, false
	}
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	return params, true
}

// preferStrict reads Prefer: handling=strict (lenient is the default).
func preferStrict(r *http.Request) bool {
	return preferValue(r, "handling") == "strict"
}

func (s *server) conditionalUpdate(w http.ResponseWriter, r *http.Request, f format) {
	typ := mux.Vars(r)["type"]
	if r.URL.RawQuery == "" {
		s.writeOutcome(w, r, f, http.StatusBadRequest, fhir.NewOutcome(fhir.SeverityError, fhir.CodeRequired,
			"PUT needs an id ([type]/[id]) or search parameters for a conditional update ([type]?...)"))
		return
	}
	if kind, mt := requestBodyKind(r); kind != bodyFHIRJSON {
		s.unsupportedMediaType(w, r, f, mt)
		return
	}
	body, ok := s.readBody(w, r, f)
	if !ok {
		return
	}
	s.writeResponse(w, r, f, withPrefer(r, s.svc.ConditionalUpdate(r.Context(), typ, r.URL.Query(), body, r.Header.Get("If-Match"))))
}

func (s *server) conditionalDelete(w http.ResponseWriter, r *http.Request, f format) {
	typ := mux.Vars(r)["type"]
	if r.URL.RawQuery == "" {
		s.writeOutcome(w, r, f, http.StatusBadRequest, fhir.NewOutcome(fhir.SeverityError, fhir.CodeRequired,
			"DELETE needs an id ([type]/[id]) or search parameters for a conditional delete ([type]?...)"))
		return
	}
	s.writeResponse(w, r, f, s.svc.ConditionalDelete(r.Context(), typ, r.URL.Query()))
}
