package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// entryURL is what an entry's request.url names, relative to this server.
type entryURL struct {
	segments []string   // the path, split on "/"
	query    url.Values // the parameters after "?"
	hasQuery bool
}

// parseEntryURL reads request.url: relative to the base ("Patient/1",
// "Patient?identifier=x", "/Patient") or absolute on this server's base.
func (s *Service) parseEntryURL(raw string) (entryURL, error) {
	u := raw
	path, _, _ := strings.Cut(u, "?")
	if base := s.cfg.BaseURL; base != "" && strings.HasPrefix(u, base+"/") {
		u = u[len(base)+1:]
	} else if strings.Contains(path, "://") {
		return entryURL{}, fmt.Errorf("%q is not on this server's base URL", raw)
	}
	if strings.Contains(path, "$") {
		return entryURL{}, fmt.Errorf("%q invokes an operation; operations are not supported inside a batch or transaction", raw)
	}
	u = strings.TrimPrefix(u, "/")
	path, rawQuery, hasQuery := strings.Cut(u, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return entryURL{}, fmt.Errorf("the query of %q is malformed: %v", raw, err)
	}
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	for _, seg := range segs {
		if seg == "" {
			return entryURL{}, fmt.Errorf("%q has an empty path segment", raw)
		}
	}
	return entryURL{segments: segs, query: q, hasQuery: hasQuery}, nil
}

// typeAndID reads a "Type/id" url: the target of PUT, PATCH and DELETE.
func (u entryURL) typeAndID() (typ, id string, ok bool) {
	if len(u.segments) == 2 && !u.hasQuery && fhir.IsResourceType(u.segments[0]) && validID(u.segments[1]) {
		return u.segments[0], u.segments[1], true
	}
	return "", "", false
}

// conditional reads a "Type?criteria" url: a conditional update or delete.
func (u entryURL) conditional() (typ string, criteria url.Values, ok bool) {
	if len(u.segments) == 1 && u.hasQuery && fhir.IsResourceType(u.segments[0]) {
		return u.segments[0], u.query, true
	}
	return "", nil, false
}

// read is the GET or HEAD interaction an entry's url names.
type read func(ctx context.Context) Response

// readFor maps a GET url onto the read, search or history interaction it
// names; ok is false when it names none this server offers.
func (s *Service) readFor(u entryURL, opts SearchOptions) (read, bool) {
	seg := u.segments
	switch {
	case len(seg) == 0 && u.hasQuery:
		return func(ctx context.Context) Response { return s.Search(ctx, "", u.query, opts) }, true
	case len(seg) == 1 && seg[0] == "_history":
		return func(ctx context.Context) Response { return s.History(ctx, "", "", u.query) }, true
	case len(seg) == 0 || !fhir.IsResourceType(seg[0]):
		return nil, false
	case len(seg) == 1:
		return func(ctx context.Context) Response { return s.Search(ctx, seg[0], u.query, opts) }, true
	case len(seg) == 2 && seg[1] == "_history":
		return func(ctx context.Context) Response { return s.History(ctx, seg[0], "", u.query) }, true
	case len(seg) == 2 && seg[1] == "_search":
		return func(ctx context.Context) Response { return s.Search(ctx, seg[0], u.query, opts) }, true
	case len(seg) == 2:
		return func(ctx context.Context) Response { return s.Read(ctx, seg[0], seg[1]) }, true
	case len(seg) == 3 && seg[2] == "_history":
		return func(ctx context.Context) Response { return s.History(ctx, seg[0], seg[1], u.query) }, true
	case len(seg) == 3:
		return func(ctx context.Context) Response {
			return s.CompartmentSearch(ctx, seg[0], seg[1], seg[2], u.query, opts)
		}, true
	case len(seg) == 4 && seg[2] == "_history":
		return func(ctx context.Context) Response { return s.VRead(ctx, seg[0], seg[1], seg[3]) }, true
	}
	return nil, false
}

// runRead runs an entry's GET or HEAD with its conditional headers: a
// current copy (ifNoneMatch, ifModifiedSince) answers 304 without a body.
func runRead(ctx context.Context, e *inEntry, rd read) Response {
	resp := rd(ctx)
	if !resp.OK() {
		return resp
	}
	if notModifiedEntry(e, resp) {
		return Response{Status: http.StatusNotModified, Version: resp.Version, LastUpdated: resp.LastUpdated}
	}
	if e.method == http.MethodHead {
		resp.Body = nil
	}
	return resp
}

func notModifiedEntry(e *inEntry, resp Response) bool {
	if e.ifNoneMatch != "" {
		v, ok := ParseETag(e.ifNoneMatch)
		return ok && resp.Version != 0 && v == resp.Version
	}
	if e.ifModifiedSince != "" && !resp.LastUpdated.IsZero() {
		t, err := parseInstantOrHTTPDate(e.ifModifiedSince)
		return err == nil && !resp.LastUpdated.After(t)
	}
	return false
}
