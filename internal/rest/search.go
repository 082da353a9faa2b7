package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// SearchOptions carries what the HTTP layer knows about a search request.
type SearchOptions struct {
	// Strict is Prefer: handling=strict: unknown parameters are errors.
	Strict bool
}

// Search answers a type-level search (typ set) or a system search (typ "").
func (s *Service) Search(ctx context.Context, typ string, params url.Values, opts SearchOptions) Response {
	if typ == "" {
		q, o := search.Parse(s.registry, "", params, s.parseOptions(opts.Strict, defaultCount, maxCount))
		if o != nil && o.HasErrors() {
			return failure(http.StatusBadRequest, o)
		}
		if r, ok := s.confineSystemSearch(ctx, q); !ok {
			return r
		}
		return s.runSearch(ctx, q, o)
	}
	if r, ok := s.checkType(typ); !ok {
		return r
	}
	p, r, ok := s.permitFor(ctx, typ, access.Search)
	if !ok {
		return r
	}
	if typ == auditType && s.cfg.AuditTrail != nil {
		return s.searchAuditTrail(ctx, p, params, opts.Strict)
	}
	q, o := search.Parse(s.registry, typ, params, s.parseOptions(opts.Strict, defaultCount, maxCount))
	if o != nil && o.HasErrors() {
		return failure(http.StatusBadRequest, o)
	}
	if r, ok := s.confineSearch(ctx, p, q, params); !ok {
		return r
	}
	return s.runSearch(ctx, q, o)
}

// runSearch executes a parsed query and renders the searchset Bundle.
func (s *Service) runSearch(ctx context.Context, q *search.Query, warnings *fhir.Outcome) Response {
	page, err := s.repo.Search(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		return fail(http.StatusGone, fhir.CodeProcessing, "the paging link is invalid or has expired; run the search again", cursorParam)
	}
	if errors.Is(err, store.ErrNotSupported) {
		return fail(http.StatusBadRequest, fhir.CodeNotSupported, strings.TrimPrefix(err.Error(), store.ErrNotSupported.Error()+": "))
	}
	if err != nil {
		return s.internalError(ctx, "search", err)
	}
	return s.searchset(ctx, q, page, warnings)
}

// searchset renders one page of a search as a searchset Bundle.
func (s *Service) searchset(ctx context.Context, q *search.Query, page store.SearchPage, warnings *fhir.Outcome) Response {
	b := s.newBundle("searchset")
	if page.Total >= 0 {
		total := page.Total
		b.Total = &total
	}
	canonical := q.Canonical()
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: s.searchURL(q, canonical, q.Cursor)})
	if q.Cursor != "" {
		b.Link = append(b.Link, bundleLink{Relation: "first", URL: s.searchURL(q, canonical, "")})
	}
	if page.Next != "" {
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: s.searchURL(q, canonical, page.Next)})
	}
	included, err := s.visibleIncluded(ctx, page.Included)
	if err != nil {
		return s.internalError(ctx, "search", err)
	}
	var touched []string
	for _, group := range []struct {
		vs   []store.Version
		mode string
	}{{page.Matches, "match"}, {included, "include"}} {
		for i := range group.vs {
			e, err := s.searchEntry(ctx, q, &group.vs[i], group.mode)
			if err != nil {
				return s.internalError(ctx, "search", err)
			}
			b.Entry = append(b.Entry, e)
			touched = append(touched, group.vs[i].Type+"/"+group.vs[i].ID)
		}
	}
	if warnings != nil && len(warnings.Issue) > 0 {
		b.Entry = append(b.Entry, bundleEntry{Resource: warnings.JSON(), Search: &entrySearch{Mode: "outcome"}})
	}
	body, err := marshalBundle(b)
	if err != nil {
		return s.internalError(ctx, "search", err)
	}
	return Response{Status: http.StatusOK, Body: body, Touched: touched}
}

func (s *Service) searchEntry(ctx context.Context, q *search.Query, v *store.Version, mode string) (bundleEntry, error) {
	body, err := s.resourceBody(ctx, v)
	if err != nil {
		return bundleEntry{}, err
	}
	if body, err = shape(body, q); err != nil {
		return bundleEntry{}, fmt.Errorf("%s/%s: %w", v.Type, v.ID, err)
	}
	return bundleEntry{FullURL: s.resourceURL(v.Type, v.ID), Resource: body, Search: &entrySearch{Mode: mode}}, nil
}

// searchURL is the link to a page of the search: the canonical parameters
// plus the cursor.
func (s *Service) searchURL(q *search.Query, canonical url.Values, cursor string) string {
	path := s.cfg.BaseURL + "/"
	if c := q.Compartment; c != nil {
		path += c.Type + "/" + c.ID + "/"
		if q.Type == "" {
			path += "*"
		}
	}
	if q.Type != "" {
		path += q.Type
	}
	v := url.Values{}
	for k, vals := range canonical {
		v[k] = vals
	}
	v.Del(cursorParam)
	if cursor != "" {
		v.Set(cursorParam, cursor)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// shape applies _summary and _elements to one resource of a searchset.
func shape(body []byte, q *search.Query) ([]byte, error) {
	return fhir.Subset(body, q.Summary, q.Elements)
}

// CompartmentSearch answers GET [compartmentType]/[id]/[type]?...: a search
// of typ limited to the resources that the compartment's parameters link to
// the owner.
func (s *Service) CompartmentSearch(ctx context.Context, compartmentType, id, typ string, params url.Values, opts SearchOptions) Response {
	if r, ok := s.checkType(compartmentType); !ok {
		return r
	}
	if fhir.CompartmentTypes(compartmentType) == nil {
		return fail(http.StatusNotFound, fhir.CodeNotSupported, fmt.Sprintf("%s is not a compartment type", compartmentType))
	}
	if typ == "*" {
		return s.compartmentSearchAll(ctx, compartmentType, id, params, opts)
	}
	if r, ok := s.checkType(typ); !ok {
		return r
	}
	links, ok := fhir.CompartmentParams(compartmentType, typ)
	if !ok {
		return fail(http.StatusBadRequest, fhir.CodeNotSupported, fmt.Sprintf("%s is not in the %s compartment", typ, compartmentType))
	}
	p, r, ok := s.permitFor(ctx, typ, access.Search)
	if !ok {
		return r
	}
	q, o := search.Parse(s.registry, typ, params, s.parseOptions(opts.Strict, defaultCount, maxCount))
	if o != nil && o.HasErrors() {
		return failure(http.StatusBadRequest, o)
	}
	q.Compartment = &search.Compartment{Type: compartmentType, ID: id, Params: links}
	if r, ok := s.confineSearch(ctx, p, q, params); !ok {
		return r
	}
	return s.runSearch(ctx, q, o)
}

// compartmentSearchAll answers GET [compartmentType]/[id]/*: a search of
// every type in the compartment (or of those _type names), paged across
// types. The owner is a member of its own compartment.
func (s *Service) compartmentSearchAll(ctx context.Context, compartmentType, id string, params url.Values, opts SearchOptions) Response {
	q, o := search.Parse(s.registry, "", params, s.parseOptions(opts.Strict, defaultCount, maxCount))
	if o != nil && o.HasErrors() {
		return failure(http.StatusBadRequest, o)
	}
	if o == nil {
		o = &fhir.Outcome{ResourceType: "OperationOutcome"}
	}
	wanted := q.Types
	if len(wanted) == 0 {
		wanted = fhir.CompartmentTypes(compartmentType)
	}
	if r, ok := s.chainsAllowed(ctx, q.Where); !ok {
		return r
	}
	members := map[string][]string{}
	var types []string
	for _, t := range wanted {
		links, ok := fhir.CompartmentParams(compartmentType, t)
		if !ok && t != compartmentType {
			o.Add(fhir.SeverityWarning, fhir.CodeNotSupported, fmt.Sprintf("%s is not in the %s compartment", t, compartmentType), "_type")
			continue
		}
		if warning, r, ok := s.compartmentMemberAllowed(ctx, compartmentType, id, t, len(q.Types) > 0); !ok {
			if r.Status != 0 {
				return r
			}
			if warning != "" {
				o.Add(fhir.SeverityWarning, fhir.CodeForbidden, warning, "_type")
			}
			continue
		}
		members[t] = links
		types = append(types, t)
	}
	slices.Sort(types)
	q.Types = types
	q.Compartment = &search.Compartment{Type: compartmentType, ID: id, ByType: members, WithOwner: slices.Contains(types, compartmentType)}
	if len(types) == 0 { // no member type is "nothing", not "every type"
		return s.searchset(ctx, q, store.SearchPage{}, o)
	}
	return s.runSearch(ctx, q, o)
}

// parseOptions are the search parser's options for this server.
func (s *Service) parseOptions(strict bool, defCount, maxCount int) search.ParseOptions {
	return search.ParseOptions{
		Strict: strict, DefaultCount: defCount, MaxCount: maxCount,
		IsResourceType: fhir.IsResourceType, BaseURL: s.cfg.BaseURL, Now: s.cfg.Now,
	}
}
