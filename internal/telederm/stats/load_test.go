package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

// fakeStore answers searches as SystemSearch does (one page of at most
// _count), supporting what Load asks: _sort=_lastUpdated,
// _lastUpdated=geT, and OR-lists on _id, focus and based-on.
type fakeStore struct {
	versions map[string][]store.Version
	calls    int
}

func (f *fakeStore) add(typ string, r Resource, lastUpdated time.Time) {
	body, _ := json.Marshal(r)
	f.versions[typ] = append(f.versions[typ], store.Version{Type: typ, ID: r["id"].(string), LastUpdated: lastUpdated, Body: body})
}

func (f *fakeStore) search(_ context.Context, typ string, p url.Values) ([]store.Version, error) {
	f.calls++
	if p.Get("_sort") != "_lastUpdated" {
		return nil, fmt.Errorf("unsorted search %v", p)
	}
	n, err := strconv.Atoi(p.Get("_count"))
	if err != nil || n > 1000 {
		return nil, fmt.Errorf("bad _count %q", p.Get("_count"))
	}
	var from time.Time
	if v := p.Get("_lastUpdated"); v != "" {
		if from, err = time.Parse(time.RFC3339Nano, strings.TrimPrefix(v, "ge")); err != nil {
			return nil, err
		}
	}
	var out []store.Version
	for _, v := range f.versions[typ] {
		if v.LastUpdated.Before(from) || !f.matches(v, p) {
			continue
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b store.Version) int { return a.LastUpdated.Compare(b.LastUpdated) })
	return out[:min(n, len(out))], nil
}

func (f *fakeStore) matches(v store.Version, p url.Values) bool {
	var r Resource
	_ = json.Unmarshal(v.Body, &r)
	for param, field := range map[string]string{"_id": "", "focus": "focus", "based-on": "basedOn"} {
		want := p.Get(param)
		if want == "" {
			continue
		}
		var have string
		switch field {
		case "":
			have = v.ID
		case "focus":
			have = str(r, "focus", "reference")
		case "basedOn":
			have = str(r, "basedOn", 0, "reference")
		}
		if !slices.Contains(strings.Split(want, ","), have) {
			return false
		}
	}
	return true
}

// TestLoadPages: 2,500 referrals, their Tasks and advice, many sharing a
// _lastUpdated with their neighbours, all found through pages of 1000
// and chunks of 100 references.
func TestLoadPages(t *testing.T) {
	f := &fakeStore{versions: map[string][]store.Version{}}
	const n = 2500
	for i := range n {
		id := strconv.Itoa(i)
		at := mon.Add(time.Duration(i/3) * time.Minute) // three to a timestamp
		f.add("ServiceRequest", sr(id, at), at)
		f.add("Task", task(id, at), at)
		if i%5 != 0 {
			f.add("DiagnosticReport", advice(id, at.Add(time.Hour), "advice-only"), at.Add(time.Hour))
		}
	}
	f.add("PractitionerRole", roleA, mon)
	in, err := Load(context.Background(), f.search)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Referrals) != n || len(in.Tasks) != n || len(in.Reports) != n*4/5 || len(in.Roles) != 1 {
		t.Fatalf("loaded %d referrals, %d tasks, %d reports, %d roles", len(in.Referrals), len(in.Tasks), len(in.Reports), len(in.Roles))
	}
	r := Compute(in, workdays.Default(), Query{})
	if r.Submitted != n || r.Answered != n*4/5 || len(r.Practices) != 1 {
		t.Errorf("submitted %d answered %d practices %d", r.Submitted, r.Answered, len(r.Practices))
	}
	t.Logf("%d searches", f.calls)
}

func TestLoadRefusesAnUnpageableTie(t *testing.T) {
	f := &fakeStore{versions: map[string][]store.Version{}}
	for i := range pageSize + 1 {
		f.add("ServiceRequest", sr(strconv.Itoa(i), mon), mon)
	}
	if _, err := Load(context.Background(), f.search); err == nil || !strings.Contains(err.Error(), "share _lastUpdated") {
		t.Errorf("err %v, want a refusal to page past a tie", err)
	}
}

func TestOperation(t *testing.T) {
	f := &fakeStore{versions: map[string][]store.Version{}}
	in := baseInput()
	for _, r := range in.Referrals {
		f.add("ServiceRequest", r, mon)
	}
	for _, r := range in.Tasks {
		f.add("Task", r, mon)
	}
	for _, r := range in.Reports {
		f.add("DiagnosticReport", r, mon)
	}
	for _, r := range in.Roles {
		f.add("PractitionerRole", r, mon)
	}
	for _, r := range in.Patients {
		f.add("Patient", r, mon)
	}
	op := Operation(f.search, workdays.Default())
	if op.Name != "stats" || op.Type != "ServiceRequest" || !op.TypeLevel || op.InstanceLevel || !op.Idempotent {
		t.Errorf("operation %+v", op)
	}
	for _, tc := range []struct {
		query       string
		status      int
		contentType string
		contains    string
	}{
		{"", http.StatusOK, "", `"name":"submitted","valueInteger":4`},
		{"start=2026-03-02&end=2026-03-03", http.StatusOK, "", `"name":"submitted","valueInteger":4`},
		{"start=2026-03-03", http.StatusOK, "", `"name":"submitted","valueInteger":0`},
		{"practice=b", http.StatusOK, "", `"name":"submitted","valueInteger":1`},
		{"practice=Organization/c&_format=csv", http.StatusOK, "text/csv; charset=utf-8", "submitted,1\n"},
		{"_format=text/csv", http.StatusOK, "text/csv; charset=utf-8", "Organization/a,2,2,0,0,1"},
		{"start=yesterday", http.StatusBadRequest, "", "start must be a date"},
		{"start=2026-03-03&end=2026-03-02", http.StatusBadRequest, "", "start must be before end"},
		{"practice=Patient/1", http.StatusBadRequest, "", "practice must be an Organization reference"},
	} {
		params, _ := url.ParseQuery(tc.query)
		resp := op.Run(context.Background(), "", params, nil)
		if resp.Status != tc.status || resp.ContentType != tc.contentType || !strings.Contains(string(resp.Body), tc.contains) {
			t.Errorf("$stats?%s: %d %q %s; want %d %q containing %q", tc.query, resp.Status, resp.ContentType, resp.Body, tc.status, tc.contentType, tc.contains)
		}
		if tc.status >= 400 && (resp.Outcome == nil || !strings.Contains(string(resp.Body), "OperationOutcome")) {
			t.Errorf("$stats?%s: error without an OperationOutcome", tc.query)
		}
	}
}
