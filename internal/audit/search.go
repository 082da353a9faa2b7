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
// names the last event of the page (recorded time and sequence number),
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
	after, ok := parseCursor(q.Cursor)
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
		next = formatCursor(last.recorded, last.seq)
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
		b.Entry = append(b.Entry, bundleEntry{FullURL: t.opts.BaseURL + "/AuditEvent/" + t.ids.id(rows[i].seq),
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

// position is where a page starts: after the event recorded at recorded
// with sequence number seq, in the order of the search.
type position struct {
	set           bool
	recorded, seq int64
}

func formatCursor(recorded, seq int64) string { return fmt.Sprintf("%d.%d", recorded, seq) }

func parseCursor(s string) (position, bool) {
	if s == "" {
		return position{}, true
	}
	a, b, ok := strings.Cut(s, ".")
	r, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return position{}, false
	}
	return position{set: true, recorded: r, seq: n}, true
}

// page reads up to count+1 events (the extra one says there is a next
// page) in (recorded, seq) order from after.
func (t *Trail) page(ctx context.Context, cond where, after position, ascending bool, count int) ([]row, error) {
	if count <= 0 {
		return nil, nil
	}
	order, cmp := "DESC", "<"
	if ascending {
		order, cmp = "ASC", ">"
	}
	sql := "SELECT " + eventColumns + " FROM event e WHERE " + cond.sql
	args := append([]any(nil), cond.args...)
	if after.set {
		sql += " AND (e.recorded, e.seq) " + cmp + " (?, ?)"
		args = append(args, after.recorded, after.seq)
	}
	sql += " ORDER BY e.recorded " + order + ", e.seq " + order + " LIMIT ?"
	args = append(args, count+1)
	rs, err := t.r.QueryContext(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func (t *Trail) count(ctx context.Context, cond where) (int, error) {
	var n int
	err := t.r.QueryRowContext(ctx, "SELECT count(*) FROM event e WHERE "+cond.sql, cond.args...).Scan(&n)
	return n, err
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
