package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// everythingParams are the parameters of Patient/$everything that paging
// links carry (with the cursor). start and end (care dates) are refused
// rather than ignored, so no client takes an unfiltered answer for a
// filtered one.
var everythingParams = []string{"_since", "_type", "_count"}

// Everything answers Patient/[id]/$everything, or Patient/$everything for
// every patient when id is empty: a searchset whose matches are exactly the
// patient compartment (the Patient itself and every current resource that
// links to it through its type's compartment parameters), paged with a
// cursor across types. What the matches reference outside the compartment
// (practitioners, organisations, medications, photos' Binary ...) comes as
// include entries. params are the URL parameters, body an optional
// Parameters carrying the same ones (POST).
func (s *Service) Everything(ctx context.Context, id string, params url.Values, body []byte) Response {
	params, r, ok := s.everythingArguments(params, body)
	if !ok {
		return r
	}
	scope, r, ok := s.everythingScope(ctx, id)
	if !ok {
		return r
	}
	id = scope.id
	if id != "" {
		if _, r, ok := s.current(ctx, "Patient", id); !ok {
			return r
		}
	}
	q, warnings, r, ok := s.everythingQuery(id, params, scope.leftOut)
	if !ok {
		return r
	}
	page := store.SearchPage{Total: 0}
	if len(q.Types) > 0 { // no types is "nothing", not "every type"
		var err error
		page, err = s.repo.Search(ctx, q)
		if errors.Is(err, store.ErrBadCursor) {
			return fail(http.StatusGone, fhir.CodeProcessing, "the paging link is invalid or has expired; start again from the first page", cursorParam)
		}
		if err != nil {
			return s.internalError(ctx, "everything", err)
		}
	}
	matches, screened, err := scope.screen(ctx, s, page.Matches)
	if err != nil {
		return s.internalError(ctx, "everything", err)
	}
	included, err := s.everythingIncludes(ctx, page)
	if err == nil {
		included, err = s.visibleIncluded(ctx, included)
	}
	if err != nil {
		return s.internalError(ctx, "everything", err)
	}

	b := s.newBundle("searchset")
	if page.Total >= 0 && !screened { // a screened page's total is not known
		total := page.Total
		b.Total = &total
	}
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: s.everythingURL(id, params, q.Cursor)})
	if q.Cursor != "" {
		b.Link = append(b.Link, bundleLink{Relation: "first", URL: s.everythingURL(id, params, "")})
	}
	if page.Next != "" {
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: s.everythingURL(id, params, page.Next)})
	}
	var touched []string
	for _, group := range []struct {
		vs   []store.Version
		mode string
	}{{matches, "match"}, {included, "include"}} {
		for i := range group.vs {
			e, err := s.searchEntry(ctx, q, &group.vs[i], group.mode)
			if err != nil {
				return s.internalError(ctx, "everything", err)
			}
			b.Entry = append(b.Entry, e)
			touched = append(touched, group.vs[i].Type+"/"+group.vs[i].ID)
		}
	}
	if len(warnings.Issue) > 0 {
		b.Entry = append(b.Entry, bundleEntry{Resource: warnings.JSON(), Search: &entrySearch{Mode: "outcome"}})
	}
	out, err := marshalBundle(b)
	if err != nil {
		return s.internalError(ctx, "everything", err)
	}
	return Response{Status: http.StatusOK, Body: out, Touched: touched}
}

// everythingArguments merges the URL parameters with those of a Parameters
// body and refuses the ones not implemented.
func (s *Service) everythingArguments(params url.Values, body []byte) (url.Values, Response, bool) {
	out := url.Values{}
	for k, vs := range params {
		out[k] = append([]string(nil), vs...)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		doc, err := decodeJSONObject(body)
		if err != nil {
			return nil, fail(http.StatusBadRequest, fhir.CodeStructure, "the body is not a JSON object: "+err.Error()), false
		}
		if rt, _ := doc["resourceType"].(string); rt != "Parameters" {
			return nil, fail(http.StatusBadRequest, fhir.CodeInvalid, fmt.Sprintf("the body must be a Parameters, not %q", rt), "resourceType"), false
		}
		if _, o := s.codec.Parse(body); o != nil {
			return nil, failure(http.StatusBadRequest, o), false
		}
		list, _ := doc["parameter"].([]any)
		for i, item := range list {
			p, _ := item.(map[string]any)
			name, _ := p["name"].(string)
			v, ok := primitiveValue(p)
			if !ok {
				return nil, fail(http.StatusBadRequest, fhir.CodeValue,
					fmt.Sprintf("parameter %q needs a primitive value", name), fmt.Sprintf("Parameters.parameter[%d]", i)), false
			}
			out.Add(name, v)
		}
	}
	for _, k := range []string{"start", "end"} {
		if out.Has(k) {
			return nil, fail(http.StatusBadRequest, fhir.CodeNotSupported,
				fmt.Sprintf("the %s parameter of $everything (care date range) is not supported; use _since to filter by update time", k), k), false
		}
	}
	return out, Response{}, true
}

// primitiveValue is the value[x] of a parameter as URL text.
func primitiveValue(p map[string]any) (string, bool) {
	for k, v := range p {
		if !strings.HasPrefix(k, "value") {
			continue
		}
		switch v := v.(type) {
		case string:
			return v, true
		case fmt.Stringer: // json.Number
			return v.String(), true
		case bool:
			return strconv.FormatBool(v), true
		}
	}
	return "", false
}

// everythingQuery builds the compartment search. warnings lists _type
// entries that cannot have members. leftOut gives the types the caller's
// scopes leave out, with the reason to warn of when _type names one.
func (s *Service) everythingQuery(id string, params url.Values, leftOut map[string]string) (*search.Query, *fhir.Outcome, Response, bool) {
	warnings := &fhir.Outcome{ResourceType: "OperationOutcome"}
	q := &search.Query{Count: defaultCount, Cursor: params.Get(cursorParam)}
	if c := params.Get("_count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return nil, nil, fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("_count %q is not a non-negative integer", c), "_count"), false
		}
		q.Count = min(n, maxCount)
	}

	// Every type of the Patient compartment, or those of _type. The Patient
	// itself is in its own compartment, and other Patients are in it
	// through Patient.link.
	members := map[string][]string{}
	var types []string
	wanted := fhir.CompartmentTypes("Patient")
	if vs := params["_type"]; len(vs) > 0 {
		wanted = nil
		for _, v := range vs {
			for _, t := range strings.Split(v, ",") {
				t = strings.TrimSpace(t)
				switch {
				case t == "":
				case !fhir.IsResourceType(t):
					return nil, nil, fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("_type: %q is not a resource type", t), "_type"), false
				case !slices.Contains(wanted, t):
					wanted = append(wanted, t)
				}
			}
		}
	}
	for _, t := range wanted {
		links, ok := fhir.CompartmentParams("Patient", t)
		if !ok && t != "Patient" {
			warnings.Add(fhir.SeverityWarning, fhir.CodeNotSupported,
				fmt.Sprintf("%s is not in the Patient compartment: _type lists it but it has no matches", t), "_type")
			continue
		}
		if why, out := leftOut[t]; out {
			if params.Has("_type") && why != "" {
				warnings.Add(fhir.SeverityWarning, fhir.CodeForbidden, fmt.Sprintf("%s is left out: %s", t, why), "_type")
			}
			continue
		}
		members[t] = links
		types = append(types, t)
	}
	slices.Sort(types)
	q.Types = types
	q.Compartment = &search.Compartment{
		Type: "Patient", ID: id, AnyOwner: id == "",
		ByType: members, WithOwner: slices.Contains(types, "Patient"),
	}

	if v := params.Get("_since"); v != "" {
		lo, hi, err := fhir.ParseDateRange(v)
		if err != nil {
			return nil, nil, fail(http.StatusBadRequest, fhir.CodeValue, "_since: "+err.Error(), "_since"), false
		}
		p, ok := s.registry.Lookup("Resource", "_lastUpdated")
		if !ok {
			return nil, nil, fail(http.StatusBadRequest, fhir.CodeNotSupported, "_since needs the _lastUpdated search parameter, which this server's registry lacks", "_since"), false
		}
		// ge at the written precision is "updated at or after the
		// instant", exactly as _lastUpdated=ge would search.
		q.Where = append(q.Where, search.Clause{Any: []search.Predicate{{Param: p, Value: search.Value{
			Kind: search.Date, Prefix: search.Ge, Lo: lo.UnixMicro(), Hi: hi.UnixMicro(), Raw: "ge" + v,
		}}}})
	}
	// Everything a page's matches reference comes along; everythingIncludes
	// keeps only what is outside the compartment.
	q.Include = []search.Include{{Wildcard: true}}
	return q, warnings, Response{}, true
}

// everythingIncludes keeps the included resources that are not of a
// compartment type: those of a compartment type are matches on some page
// already, or belong to another patient and must not leak into this one's
// record. It adds the Binary of each matching Media and DocumentReference
// (the photos), which no search parameter indexes.
func (s *Service) everythingIncludes(ctx context.Context, page store.SearchPage) ([]store.Version, error) {
	var out []store.Version
	seen := map[string]bool{}
	for _, v := range page.Included {
		if _, member := fhir.CompartmentParams("Patient", v.Type); member || v.Type == "Patient" {
			continue
		}
		seen[v.Type+"/"+v.ID] = true
		out = append(out, v)
	}
	for _, m := range page.Matches {
		if m.Type != "Media" && m.Type != "DocumentReference" {
			continue
		}
		for _, id := range s.attachmentBinaries(m.Body) {
			if seen["Binary/"+id] {
				continue
			}
			seen["Binary/"+id] = true
			v, err := s.repo.Current(ctx, "Binary", id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if !v.Deleted {
				out = append(out, *v)
			}
		}
	}
	return out, nil
}

// attachmentBinaries lists the ids of local Binaries that a Media's
// content.url or a DocumentReference's content.attachment.url points at.
func (s *Service) attachmentBinaries(body []byte) []string {
	var doc struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(body, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	var urls []string
	var media struct {
		URL string `json:"url"`
	}
	var docRef []struct {
		Attachment struct {
			URL string `json:"url"`
		} `json:"attachment"`
	}
	if json.Unmarshal(doc.Content, &media) == nil {
		urls = append(urls, media.URL)
	} else if json.Unmarshal(doc.Content, &docRef) == nil {
		for _, c := range docRef {
			urls = append(urls, c.Attachment.URL)
		}
	}
	var ids []string
	for _, u := range urls {
		u = strings.TrimPrefix(u, s.cfg.BaseURL+"/")
		if id, ok := strings.CutPrefix(u, "Binary/"); ok && validID(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// everythingURL is the link to a page: the operation's own parameters plus
// the cursor.
func (s *Service) everythingURL(id string, params url.Values, cursor string) string {
	path := s.cfg.BaseURL + "/Patient/"
	if id != "" {
		path += id + "/"
	}
	path += "$everything"
	v := url.Values{}
	for _, k := range everythingParams {
		if vs, ok := params[k]; ok {
			v[k] = vs
		}
	}
	if cursor != "" {
		v.Set(cursorParam, cursor)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}
