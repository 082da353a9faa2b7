package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/audit/auditstore"
	"github.com/telederm/telederm/internal/rest"
)

// Page sizes, as the repository's searches have them.
const (
	defaultCount = 50
	maxCount     = 1000
	cursorParam  = "_cursor"
)

// SearchAuditEvents answers GET AuditEvent?...: a searchset Bundle of the
// matching events, newest first unless _sort=date, paged by a cursor that
// names the last event of the page (recorded time and id),
// so pages neither repeat nor skip events as the trail grows. Unknown
// parameters are ignored (listed in a warning, left out of the links), or
// refused when strict. The response touches nothing, like a read.
func (t *Trail) SearchAuditEvents(ctx context.Context, params url.Values, strict bool) rest.Response {
	q, warnings := search.Parse(t.params, auditType, params, search.ParseOptions{
		Strict: strict, DefaultCount: defaultCount, MaxCount: maxCount, BaseURL: t.opts.BaseURL,
	})
	if warnings.HasErrors() {
		return failure(http.StatusBadRequest, warnings)
	}
	fail := func(code, param, format string, args ...any) rest.Response {
		return failure(http.StatusBadRequest, fhir.NewOutcome(fhir.SeverityError, code,
			fmt.Sprintf("parameter %q: ", param)+fmt.Sprintf(format, args...), param))
	}
	ascending, ok := ascendingSort(q)
	if !ok {
		return fail(fhir.CodeNotSupported, "_sort", "AuditEvent sorts only by date (-date, newest first, is the default)")
	}
	canonical := q.Canonical()
	for _, inc := range []string{"_include", "_revinclude"} {
		if canonical.Has(inc) {
			if strict {
				return fail(fhir.CodeNotSupported, inc, "AuditEvent searches do not include other resources")
			}
			warnings = warn(warnings, inc, "AuditEvent searches do not include other resources (ignored)")
			canonical.Del(inc)
		}
	}
	cond, param, err := t.conditions(q)
	if err != nil {
		var bad *badPredicate
		if errors.As(err, &bad) {
			return fail(bad.code, param, "%s", bad.text)
		}
		return t.internalError(ctx, "search", err)
	}
	after, ok := t.parseCursor(q.Cursor)
	if !ok {
		return fail(fhir.CodeValue, cursorParam, "not a paging position of this server; follow the links of a searchset")
	}

	var total *int
	if q.Total == "accurate" || q.Total == "estimate" || q.Summary == "count" {
		n, err := t.count(ctx, cond)
		if err != nil {
			return t.internalError(ctx, "search", err)
		}
		total = &n
	}
	rows, err := t.page(ctx, cond, after, ascending, q.Count)
	if err != nil {
		return t.internalError(ctx, "search", err)
	}
	next := ""
	if len(rows) > q.Count {
		rows = rows[:q.Count]
		last := rows[len(rows)-1]
		next = t.formatCursor(last)
	}

	b := searchset{ResourceType: "Bundle", ID: bundleID(), Type: "searchset", Total: total,
		Meta: meta{LastUpdated: time.Now().UTC().Format(instantFormat)}}
	b.Link = append(b.Link, link{Relation: "self", URL: t.searchURL(canonical, q.Cursor)})
	if q.Cursor != "" {
		b.Link = append(b.Link, link{Relation: "first", URL: t.searchURL(canonical, "")})
	}
	if next != "" {
		b.Link = append(b.Link, link{Relation: "next", URL: t.searchURL(canonical, next)})
	}
	for i := range rows {
		body, err := t.render(&rows[i])
		if err == nil {
			body, err = fhir.Subset(body, q.Summary, q.Elements)
		}
		if err != nil {
			return t.internalError(ctx, "search", err)
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: t.opts.BaseURL + "/AuditEvent/" + t.ids.id(rows[i].Key),
			Resource: body, Search: &entrySearch{Mode: "match"}})
	}
	if warnings != nil && len(warnings.Issue) > 0 {
		b.Entry = append(b.Entry, bundleEntry{Resource: warnings.JSON(), Search: &entrySearch{Mode: "outcome"}})
	}
	body, err := marshal(b)
	if err != nil {
		return t.internalError(ctx, "search", err)
	}
	return rest.Response{Status: http.StatusOK, Body: body}
}

// ascendingSort reads _sort: date (oldest first) or -date (newest first,
// the default); _lastUpdated is the same instant.
func ascendingSort(q *search.Query) (ascending, ok bool) {
	if len(q.Sort) == 0 {
		return false, true
	}
	if len(q.Sort) > 1 {
		return false, false
	}
	s := q.Sort[0]
	if c := s.Param.Code; c != "date" && c != "_lastUpdated" {
		return false, false
	}
	return !s.Descending, true
}

func warn(o *fhir.Outcome, param, text string) *fhir.Outcome {
	if o == nil {
		o = &fhir.Outcome{ResourceType: "OperationOutcome"}
	}
	o.Add(fhir.SeverityWarning, fhir.CodeNotSupported, fmt.Sprintf("parameter %q: %s", param, text), param)
	return o
}

// A cursor is the recorded time of the last event of a page and its id:
// what the store pages from, in a form that reveals no more than the
// event itself.
func (t *Trail) formatCursor(r auditstore.Row) string {
	return strconv.FormatInt(r.Recorded, 10) + "." + t.ids.id(r.Key)
}

// parseCursor reads a cursor: nil for none, false for one this trail did
// not write.
func (t *Trail) parseCursor(s string) (*auditstore.Position, bool) {
	if s == "" {
		return nil, true
	}
	a, id, ok := strings.Cut(s, ".")
	r, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil {
		return nil, false
	}
	key, ok := t.ids.key(id)
	if !ok {
		return nil, false
	}
	return &auditstore.Position{Recorded: r, Key: key}, true
}

// page reads up to count+1 events (the extra one says there is a next
// page) in (recorded, key) order from after.
func (t *Trail) page(ctx context.Context, cond auditstore.Cond, after *auditstore.Position, ascending bool, count int) ([]auditstore.Row, error) {
	if count <= 0 || cond.Kind == auditstore.KindNone {
		return nil, nil
	}
	return t.store.Page(ctx, cond, after, ascending, count+1)
}

func (t *Trail) count(ctx context.Context, cond auditstore.Cond) (int, error) {
	if cond.Kind == auditstore.KindNone {
		return 0, nil
	}
	return t.store.Count(ctx, cond)
}

// searchURL is the link to a page: the canonical parameters and a cursor.
func (t *Trail) searchURL(canonical url.Values, cursor string) string {
	v := url.Values{}
	for k, vals := range canonical {
		v[k] = vals
	}
	v.Del(cursorParam)
	if cursor != "" {
		v.Set(cursorParam, cursor)
	}
	u := t.opts.BaseURL + "/" + auditType
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

type (
	searchset struct {
		ResourceType string        `json:"resourceType"`
		ID           string        `json:"id"`
		Meta         meta          `json:"meta"`
		Type         string        `json:"type"`
		Total        *int          `json:"total,omitempty"`
		Link         []link        `json:"link"`
		Entry        []bundleEntry `json:"entry,omitempty"`
	}
	link struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	}
	bundleEntry struct {
		FullURL  string          `json:"fullUrl,omitempty"`
		Resource json.RawMessage `json:"resource"`
		Search   *entrySearch    `json:"search,omitempty"`
	}
	entrySearch struct {
		Mode string `json:"mode"`
	}
)

// marshal renders JSON without HTML escaping: links keep their "&".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// bundleID is a random id for a searchset, which is not stored.
func bundleID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
