package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/jsontree"
	"github.com/telederm/telederm/internal/store"
)

// Paging limits for history: small enough that one page never holds a
// large share of memory, large enough for bulk readers.
const (
	defaultCount = 50
	maxCount     = 1000
	// cursorParam carries the store's opaque cursor in next links.
	cursorParam = "_cursor"
)

// History answers the history interaction at system level (typ and id
// empty), type level (id empty) or instance level. params are the query
// parameters: _count, _since, _at and the paging cursor.
func (s *Service) History(ctx context.Context, typ, id string, params url.Values) Response {
	if typ != "" {
		if r, ok := s.checkType(typ); !ok {
			return r
		}
	}
	screen, r, ok := s.historyScreen(ctx, typ, id)
	if !ok {
		return r
	}
	q, r, ok := historyQuery(typ, id, params)
	if !ok {
		return r
	}
	if id != "" {
		if _, err := s.repo.Version(ctx, typ, id, 1); errors.Is(err, store.ErrNotFound) {
			return notKnown(typ, id)
		}
		if r, ok := screen.instance(ctx, s, typ, id); !ok {
			return r
		}
	}
	page, err := s.repo.History(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		return fail(http.StatusGone, fhir.CodeProcessing, "the paging link is invalid or has expired; start again from the first page", cursorParam)
	}
	if err != nil {
		return s.internalError(ctx, "history", err)
	}
	b := s.newBundle("history")
	self := s.historyURL(typ, id, params, q.Cursor)
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: self})
	if q.Cursor != "" {
		b.Link = append(b.Link, bundleLink{Relation: "first", URL: s.historyURL(typ, id, params, "")})
	}
	if page.Next != "" {
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: s.historyURL(typ, id, params, page.Next)})
	}
	var touched []string
	seen := map[string]bool{}
	for i := range page.Versions {
		v := &page.Versions[i]
		shown, err := screen.shows(ctx, s, v)
		if err != nil {
			return s.internalError(ctx, "history", err)
		}
		if !shown {
			continue
		}
		e, err := s.historyEntry(ctx, v)
		if err != nil {
			return s.internalError(ctx, "history", err)
		}
		b.Entry = append(b.Entry, e)
		if ref := v.Type + "/" + v.ID; !seen[ref] {
			seen[ref] = true
			touched = append(touched, ref)
		}
	}
	body, err := marshalBundle(b)
	if err != nil {
		return s.internalError(ctx, "history", err)
	}
	return Response{Status: http.StatusOK, Body: body, Touched: touched}
}

func historyQuery(typ, id string, params url.Values) (store.HistoryQuery, Response, bool) {
	q := store.HistoryQuery{Type: typ, ID: id, Count: defaultCount, Cursor: params.Get(cursorParam)}
	if c := params.Get("_count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return q, fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("_count %q is not a non-negative integer", c), "_count"), false
		}
		q.Count = min(max(n, 1), maxCount)
	}
	if v := params.Get("_since"); v != "" {
		lo, _, err := fhir.ParseDateRange(v)
		if err != nil {
			return q, fail(http.StatusBadRequest, fhir.CodeValue, "_since: "+err.Error(), "_since"), false
		}
		q.Since = lo
	}
	if v := params.Get("_at"); v != "" {
		lo, hi, err := fhir.ParseDateRange(v)
		if err != nil {
			return q, fail(http.StatusBadRequest, fhir.CodeValue, "_at: "+err.Error(), "_at"), false
		}
		q.AtLo, q.AtHi = lo, hi
	}
	return q, Response{}, true
}

// historyURL rebuilds the request's own URL with a cursor, keeping only the
// parameters history understands.
func (s *Service) historyURL(typ, id string, params url.Values, cursor string) string {
	path := s.cfg.BaseURL
	switch {
	case id != "":
		path += "/" + typ + "/" + id + "/_history"
	case typ != "":
		path += "/" + typ + "/_history"
	default:
		path += "/_history"
	}
	q := url.Values{}
	for _, k := range []string{"_count", "_since", "_at"} {
		if v := params.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	if cursor != "" {
		q.Set(cursorParam, cursor)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (s *Service) historyEntry(ctx context.Context, v *store.Version) (bundleEntry, error) {
	e := bundleEntry{FullURL: s.resourceURL(v.Type, v.ID)}
	e.Request = &entryRequest{Method: string(v.Method), URL: v.Type + "/" + v.ID}
	e.Response = &entryResponse{
		ETag:         ETag(v.VersionID),
		LastModified: v.LastUpdated.UTC().Format(instantFormat),
	}
	switch {
	case v.Deleted:
		e.Response.Status = "204 No Content"
	case v.Method == store.MethodCreate:
		e.Request.URL = v.Type
		e.Response.Status = "201 Created"
	case v.VersionID == 1:
		e.Response.Status = "201 Created"
	default:
		e.Response.Status = "200 OK"
	}
	if !v.Deleted {
		body, err := s.resourceBody(ctx, v)
		if err != nil {
			return e, err
		}
		e.Resource = body
	}
	return e, nil
}

// Bundle JSON, written with plain structs: the server assembles bundles
// around resource bytes it already has and never needs to parse them again.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id,omitempty"`
	Meta         *bundleMeta   `json:"meta,omitempty"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleMeta struct {
	LastUpdated string `json:"lastUpdated"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status       string `json:"status"`
	Location     string `json:"location,omitempty"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	// Outcome is a batch entry's OperationOutcome: why it failed.
	Outcome json.RawMessage `json:"outcome,omitempty"`
}

// instantFormat renders a FHIR instant with milliseconds.
const instantFormat = "2006-01-02T15:04:05.000Z07:00"

// newBundle starts a Bundle of a type the server answers with.
func (s *Service) newBundle(typ string) bundle {
	return bundle{ResourceType: "Bundle", ID: newID(), Type: typ,
		Meta: &bundleMeta{LastUpdated: s.cfg.Now().UTC().Format(instantFormat)}}
}

// marshalBundle renders a Bundle without HTML escaping: links keep their
// "&" and narratives their markup, as a FHIR client expects to read them.
// The entries are written here rather than by encoding/json, which scans
// every embedded resource again to compact it (a transaction response of
// 100 resources spent most of its time there): the resources are the
// server's own compact JSON, appended as they are.
func marshalBundle(b bundle) ([]byte, error) {
	entries := b.Entry
	b.Entry = nil
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	out := bytes.TrimRight(buf.Bytes(), "\n")
	if len(entries) == 0 {
		return out, nil
	}
	out = append(out[:len(out)-1], `,"entry":[`...) // entry is the last member
	for i, e := range entries {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendEntry(out, e)
	}
	return append(out, "]}"...), nil
}

// appendEntry writes e as encoding/json would write the struct.
func appendEntry(out []byte, e bundleEntry) []byte {
	m := members{out: append(out, '{')}
	m.str("fullUrl", e.FullURL, true)
	m.raw("resource", e.Resource)
	if e.Search != nil {
		m.open("search")
		m.str("mode", e.Search.Mode, false)
		m.close()
	}
	if e.Request != nil {
		m.open("request")
		m.str("method", e.Request.Method, false)
		m.str("url", e.Request.URL, false)
		m.close()
	}
	if r := e.Response; r != nil {
		m.open("response")
		m.str("status", r.Status, false)
		m.str("location", r.Location, true)
		m.str("etag", r.ETag, true)
		m.str("lastModified", r.LastModified, true)
		m.raw("outcome", r.Outcome)
		m.close()
	}
	return append(m.out, '}')
}

// members writes the members of JSON objects, nested one level at a time.
type members struct {
	out   []byte
	outer bool // the enclosing object has a member already
	any   bool // the current object has a member already
}

func (m *members) key(name string) {
	if m.any {
		m.out = append(m.out, ',')
	}
	m.any = true
	m.out = jsontree.AppendString(m.out, name)
	m.out = append(m.out, ':')
}

func (m *members) str(name, v string, omitEmpty bool) {
	if v == "" && omitEmpty {
		return
	}
	m.key(name)
	m.out = jsontree.AppendString(m.out, v)
}

func (m *members) raw(name string, v json.RawMessage) {
	if len(v) == 0 {
		return
	}
	m.key(name)
	m.out = append(m.out, v...)
}

func (m *members) open(name string) {
	m.key(name)
	m.out = append(m.out, '{')
	m.outer, m.any = m.any, false
}

func (m *members) close() {
	m.out = append(m.out, '}')
	m.any = m.outer
}
