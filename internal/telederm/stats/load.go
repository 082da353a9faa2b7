package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// SearchFunc is a search with the server's own rights returning one page
// of at most 1000 matches (rest.Service.SystemSearch).
type SearchFunc func(ctx context.Context, typ string, params url.Values) ([]store.Version, error)

// Page size of every search, and how many references one search names.
const (
	pageSize  = 1000
	refsChunk = 100
)

// Run loads what q needs and computes its numbers.
func Run(ctx context.Context, search SearchFunc, cal Calendar, q Query) (Result, error) {
	in, err := Load(ctx, search)
	if err != nil {
		return Result{}, err
	}
	return Compute(in, cal, q), nil
}

// Load fetches every referral (ServiceRequest?performer-type=dermatologist
// or dermatology service), the Tasks focused on them, the
// DiagnosticReports basedOn them, the PractitionerRoles that requested
// them and the Patients of the rest (for practice attribution). Every
// search is paged on _lastUpdated (see all), so more than a page of
// anything is found.
//
// It loads all referrals whatever the range: the submission time lives on
// the Task and may be later than anything the ServiceRequest records.
func Load(ctx context.Context, search SearchFunc) (Input, error) {
	var in Input
	var err error
	in.Referrals, err = all(ctx, search, "ServiceRequest", url.Values{"performer-type": {sct + "|18803008," + sct + "|700241009"}})
	if err != nil {
		return in, err
	}
	var srs, roles, patients []string
	for _, sr := range in.Referrals {
		srs = append(srs, self(sr))
		if req := str(sr, "requester", "reference"); refType(req) == "PractitionerRole" {
			roles = append(roles, localRef(req))
		} else if subj := str(sr, "subject", "reference"); subj != "" {
			patients = append(patients, localRef(subj))
		}
	}
	if in.Tasks, err = byChunks(ctx, search, "Task", "focus", srs); err != nil {
		return in, err
	}
	if in.Reports, err = byChunks(ctx, search, "DiagnosticReport", "based-on", srs); err != nil {
		return in, err
	}
	if in.Roles, err = byChunks(ctx, search, "PractitionerRole", "_id", ids(roles)); err != nil {
		return in, err
	}
	if in.Patients, err = byChunks(ctx, search, "Patient", "_id", ids(patients)); err != nil {
		return in, err
	}
	return in, nil
}

// byChunks searches typ for param equal to each of values, refsChunk
// values (OR-ed) at a time.
func byChunks(ctx context.Context, search SearchFunc, typ, param string, values []string) ([]Resource, error) {
	values = dedupe(values)
	var out []Resource
	for len(values) > 0 {
		n := min(refsChunk, len(values))
		rs, err := all(ctx, search, typ, url.Values{param: {strings.Join(values[:n], ",")}})
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
		values = values[n:]
	}
	return out, nil
}

// all is every match of typ?params: pages sorted by _lastUpdated, each
// after the first asking for _lastUpdated at or after the last one seen,
// with what was already seen dropped. It fails rather than loop when a
// whole page shares one _lastUpdated.
func all(ctx context.Context, search SearchFunc, typ string, params url.Values) ([]Resource, error) {
	seen := map[string]bool{}
	var out []Resource
	var from time.Time
	for {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		p.Set("_count", fmt.Sprint(pageSize))
		p.Set("_sort", "_lastUpdated")
		if !from.IsZero() {
			p.Set("_lastUpdated", "ge"+from.UTC().Format("2006-01-02T15:04:05.000Z"))
		}
		page, err := search(ctx, typ, p)
		if err != nil {
			return nil, fmt.Errorf("stats: search %s: %w", typ, err)
		}
		fresh := 0
		for _, v := range page {
			if v.Deleted || seen[v.ID] {
				continue
			}
			seen[v.ID] = true
			var r Resource
			if err := json.Unmarshal(v.Body, &r); err != nil {
				return nil, fmt.Errorf("stats: %s/%s: %w", typ, v.ID, err)
			}
			out = append(out, r)
			fresh++
			if v.LastUpdated.After(from) {
				from = v.LastUpdated
			}
		}
		if len(page) < pageSize {
			return out, nil
		}
		if fresh == 0 {
			return nil, fmt.Errorf("stats: more than %d %s resources share _lastUpdated %s; cannot page past them", pageSize, typ, from.Format(time.RFC3339Nano))
		}
	}
}

// ids are the id parts of Type/id references.
func ids(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		_, id, _ := strings.Cut(r, "/")
		out = append(out, id)
	}
	return out
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
