package audit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchFixture is eight events, one a day from 2026-01-01T10:00Z, whose
// numbers (1-8) are their days of January.
var searchFixture = []Event{
	1: {Action: "read", Type: "Patient", Status: 200, ClientID: "app1", Subject: "user-dr1", FHIRUser: "Practitioner/dr1",
		Patient: "p1", Source: "10.0.0.1", Entities: []string{"Patient/p1"}},
	2: {Action: "search-type", Type: "Observation", Status: 200, ClientID: "app1", Subject: "user-dr1",
		FHIRUser: testBase + "/Practitioner/dr1", Patient: "p1", Source: "10.0.0.1", Entities: []string{"Observation/o1", "Observation/o2"}},
	3: {Action: "create", Type: "Observation", Status: 201, ClientID: "app2", Subject: "user-dr2", FHIRUser: "Practitioner/dr2",
		Source: "10.0.0.2", Entities: []string{"Observation/o3"}},
	4: {Action: "delete", Type: "Observation", Status: 404, ClientID: "app2", Subject: "user-dr2", FHIRUser: "Practitioner/dr2",
		Source: "10.0.0.2", Detail: `Observation/o9 is not known`},
	5: {Action: "transaction", Status: 500, ClientID: "backend", Subject: "backend", Source: "192.168.1.5", Detail: "internal server error"},
	6: {Action: "auth-token", Status: 401, ClientID: "app1", Source: "10.0.0.1", Detail: "invalid_client"},
	7: {Action: "search-compartment", Type: "Observation", Status: 200, ClientID: "app3", Subject: "pat-2", FHIRUser: "Patient/p2",
		Source: "::1", Entities: []string{"Observation/o9"}},
	8: {Action: "unknown", Status: 404, Source: "10.0.0.9"},
}

func fixtureTrail(t *testing.T) *Trail {
	t.Helper()
	tr := openTrail(t, Options{})
	day := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	var times []time.Time
	for i := 1; i < len(searchFixture); i++ {
		times = append(times, day.AddDate(0, 0, i-1))
	}
	tr.now = fixedClock(times...)
	for i := 1; i < len(searchFixture); i++ {
		e := searchFixture[i]
		e.Time = times[i-1].Add(-50 * time.Millisecond)
		tr.Record(context.Background(), e)
	}
	flush(t, tr)
	return tr
}

// numbers are the fixture numbers of a searchset's matches, in order.
func numbers(t *testing.T, tr *Trail, b bundleJSON) []int {
	t.Helper()
	var out []int
	for _, e := range b.Entry {
		if e.Search.Mode != "match" {
			continue
		}
		var ev eventJSON
		if err := json.Unmarshal(e.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		if _, ok := tr.ids.key(ev.ID); !ok {
			t.Fatalf("entry id %q is not one of the trail's", ev.ID)
		}
		if want := testBase + "/AuditEvent/" + ev.ID; e.FullURL != want {
			t.Errorf("fullUrl %q, want %q", e.FullURL, want)
		}
		out = append(out, fixtureNumber(t, ev.Recorded))
	}
	return out
}

// fixtureNumber is the number of the fixture event recorded at s: its
// day in January, or 9 for the event the paging test adds on 1 February.
func fixtureNumber(t *testing.T, s string) int {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	if at.Month() == time.February {
		return 9
	}
	return at.Day()
}

func searchOK(t *testing.T, tr *Trail, query string, strict bool) bundleJSON {
	t.Helper()
	resp := tr.SearchAuditEvents(context.Background(), queryOf(t, query), strict)
	if resp.Status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", query, resp.Status, resp.Body)
	}
	if len(resp.Touched) != 0 {
		t.Errorf("%s: the search touched %v; reading the trail must touch nothing", query, resp.Touched)
	}
	var b bundleJSON
	if err := json.Unmarshal(resp.Body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Type != "searchset" {
		t.Errorf("%s: bundle type %q", query, b.Type)
	}
	return b
}

func TestSearchMatches(t *testing.T) {
	tr := fixtureTrail(t)
	id3 := idOf(t, tr, "date=2026-01-03")
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{"", []int{8, 7, 6, 5, 4, 3, 2, 1}},
		{"_sort=date", []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{"_sort=-date", []int{8, 7, 6, 5, 4, 3, 2, 1}},
		{"_sort=_lastUpdated", []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{"_id=" + id3, []int{3}},
		{"_id=" + otherID(t, tr, id3), nil},
		{"_id=00000000000000000000000000000000", nil},
		{"_id:not=" + id3 + "&_sort=date", []int{1, 2, 4, 5, 6, 7, 8}},

		{"date=2026-01-03", []int{3}},
		{"date=2026-01-03T10:00:00Z", []int{3}},
		{"date=2026-01-03T10:00:00.000000Z", []int{3}},
		{"date=2026-01-03T10:00:00.000001Z", nil},
		{"date=2026-01-03T11:00:00%2B01:00", []int{3}},
		{"date=2026-01", []int{8, 7, 6, 5, 4, 3, 2, 1}},
		{"date=2025", nil},
		{"date=ge2026-01-05", []int{8, 7, 6, 5}},
		{"date=gt2026-01-05", []int{8, 7, 6}},
		{"date=lt2026-01-03", []int{2, 1}},
		{"date=le2026-01-03", []int{3, 2, 1}},
		{"date=sa2026-01-07", []int{8}},
		{"date=eb2026-01-02", []int{1}},
		{"date=ne2026-01-03&_sort=date", []int{1, 2, 4, 5, 6, 7, 8}},
		{"date=ge2026-01-02&date=le2026-01-04", []int{4, 3, 2}},
		{"date=2026-01-02,2026-01-06", []int{6, 2}},
		{"_lastUpdated=2026-01-08", []int{8}},

		{"agent=Practitioner/dr1", []int{2, 1}},
		{"agent=" + url.QueryEscape(testBase+"/Practitioner/dr1"), []int{2, 1}},
		{"agent=dr2", []int{4, 3}},
		{"agent:Practitioner=dr2", []int{4, 3}},
		{"agent:Patient=dr2", nil},
		{"who=Practitioner/dr2", []int{4, 3}},
		{"agent=Patient/p2", []int{7}},
		{"agent:identifier=app1", []int{6, 2, 1}},
		{"agent:identifier=|app1", []int{6, 2, 1}},
		{"agent:identifier=urn:x|app1", nil},
		{"who:identifier=backend", []int{5}},
		{"altid=user-dr2", []int{4, 3}},
		{"altid=backend", []int{5}},

		{"patient=Patient/p1", []int{2, 1}},
		{"patient=p1", []int{2, 1}},
		{"patient=p2", []int{7}},
		{"patient=Patient/nobody", nil},

		{"entity=Observation/o3", []int{3}},
		{"entity=o1", []int{2}},
		{"entity=Patient/p1", []int{2, 1}},
		{"entity=Observation/o1,Observation/o9", []int{7, 2}},
		{"entity=" + url.QueryEscape(testBase+"/Observation/o2"), []int{2}},

		{"outcome=0", []int{7, 3, 2, 1}},
		{"outcome=4", []int{8, 6, 4}},
		{"outcome=8", []int{5}},
		{"outcome=http://hl7.org/fhir/audit-event-outcome|8", []int{5}},
		{"outcome=urn:other|8", nil},
		{"outcome:not=0", []int{8, 6, 5, 4}},
		{"outcome=12", nil},

		{"action=R", []int{1}},
		{"action=C", []int{3}},
		{"action=D", []int{4}},
		{"action=U", nil},
		{"action=E", []int{8, 7, 6, 5, 2}},
		{"action=http://hl7.org/fhir/audit-event-action|C", []int{3}},

		{"subtype=read", []int{1}},
		{"subtype=search-type", []int{7, 2}},
		{"subtype=http://hl7.org/fhir/restful-interaction|create", []int{3}},
		{"subtype=read,create", []int{3, 1}},
		{"subtype=transaction", []int{5}},
		{"subtype=auth-token", []int{6}},
		{"subtype=" + AuthStepSystem + "|auth-token", []int{6}},
		{"subtype=" + AuthStepSystem + "|", []int{6}},
		{"subtype=http://hl7.org/fhir/restful-interaction|auth-token", nil},

		{"type=rest", []int{8, 7, 5, 4, 3, 2, 1}},
		{"type=http://dicom.nema.org/resources/ontology/DCM|110114", []int{6}},
		{"type=110114", []int{6}},
		{"type=http://terminology.hl7.org/CodeSystem/audit-event-type|110114", nil},

		{"address=10.0.0", []int{8, 6, 4, 3, 2, 1}},
		{"address:exact=10.0.0.2", []int{4, 3}},
		{"address:exact=10.0.0", nil},
		{"address:contains=168", []int{5}},
		{"address=::1", []int{7}},

		{"agent=Practitioner/dr1&outcome=0&date=2026-01-02", []int{2}},
		{"patient=p1&subtype=read", []int{1}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			b := searchOK(t, tr, tc.query, true)
			if got := numbers(t, tr, b); !slices.Equal(got, tc.want) {
				t.Errorf("got events %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSearchRefusesWhatItCannotAnswer(t *testing.T) {
	tr := fixtureTrail(t)
	for _, tc := range []struct {
		query  string
		strict bool
		param  string // the parameter the OperationOutcome must name
	}{
		{"date=yesterday", false, "date"},
		{"date=2026-13", false, "date"},
		{"_count=-1", false, "_count"},
		{"_sort=address", false, "_sort"},
		{"_sort=date,-address", false, "_sort"},
		{"_cursor=zzz", false, "_cursor"},
		{"_cursor=12.0", false, "_cursor"},
		{"address:missing=true", false, "address"},
		{"entity:identifier=x", false, "entity"},
		{"subtype:text=read", false, "subtype"},
		{"foo=bar", true, "foo"},
		{"agent-name=Smith", true, "agent-name"},
		{"agent.name=Smith", true, "agent.name"},
		{"_include=AuditEvent:agent", true, "_include"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp := tr.SearchAuditEvents(context.Background(), queryOf(t, tc.query), tc.strict)
			if resp.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.Status, resp.Body)
			}
			if resp.Outcome == nil || len(resp.Outcome.Issue) == 0 {
				t.Fatalf("no OperationOutcome: %s", resp.Body)
			}
			named := false
			for _, is := range resp.Outcome.Issue {
				named = named || slices.Contains(is.Expression, tc.param)
			}
			if !named {
				t.Errorf("the outcome does not name %q: %s", tc.param, resp.Body)
			}
		})
	}
}

// Lenient handling ignores what it does not know, says so, and keeps it
// out of the links.
func TestSearchIgnoresUnknownParameters(t *testing.T) {
	tr := fixtureTrail(t)
	b := searchOK(t, tr, "foo=bar&subtype=read&_include=AuditEvent:agent", false)
	if got := numbers(t, tr, b); !slices.Equal(got, []int{1}) {
		t.Errorf("got events %v, want [1]", got)
	}
	self := b.link("self")
	if strings.Contains(self, "foo") || strings.Contains(self, "_include") || !strings.Contains(self, "subtype=read") {
		t.Errorf("self link %q: want subtype and neither foo nor _include", self)
	}
	last := b.Entry[len(b.Entry)-1]
	if last.Search.Mode != "outcome" || !strings.Contains(string(last.Resource), `"foo"`) ||
		!strings.Contains(string(last.Resource), `"_include"`) {
		t.Errorf("want a warning naming foo and _include, got %s (mode %s)", last.Resource, last.Search.Mode)
	}
}

// Paging follows next links to the end, each page continuing where the
// last stopped, in both orders. An event recorded after the first page
// (number 9) shifts nothing: newest first it is before the first page,
// oldest first it ends the last.
func TestSearchPaging(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  [][]int
	}{
		{"_count=3", [][]int{{8, 7, 6}, {5, 4, 3}, {2, 1}}},
		{"_count=3&_sort=date", [][]int{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}},
		{"_count=2&outcome=0", [][]int{{7, 3}, {2, 1}}},
		{"_count=4&outcome=0", [][]int{{7, 3, 2, 1}}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			tr := fixtureTrail(t)
			query := tc.query
			for i, want := range tc.want {
				b := searchOK(t, tr, query, true)
				if got := numbers(t, tr, b); !slices.Equal(got, want) {
					t.Fatalf("page %d: got events %v, want %v", i+1, got, want)
				}
				if i == 0 && b.link("first") != "" {
					t.Errorf("the first page has a first link")
				}
				if i > 0 && b.link("first") == "" {
					t.Errorf("page %d has no first link", i+1)
				}
				next := b.link("next")
				if i == len(tc.want)-1 {
					if next != "" {
						t.Errorf("the last page links to %s", next)
					}
					break
				}
				if next == "" {
					t.Fatalf("page %d has no next link", i+1)
				}
				u, err := url.Parse(next)
				if err != nil || !strings.HasPrefix(next, testBase+"/AuditEvent?") {
					t.Fatalf("next link %q", next)
				}
				query = u.RawQuery
				if i == 0 { // a newer event must not shift the pages
					tr.now = func() time.Time { return time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) }
					tr.Record(context.Background(), Event{Action: "read", Status: 200})
					flush(t, tr)
				}
			}
		})
	}
}

func TestSearchTotalsAndShaping(t *testing.T) {
	tr := fixtureTrail(t)
	b := searchOK(t, tr, "_summary=count&outcome=4", true)
	if b.Total == nil || *b.Total != 3 || len(b.Entry) != 0 {
		t.Errorf("_summary=count: total %v and %d entries, want 3 and none", total(b), len(b.Entry))
	}
	b = searchOK(t, tr, "_total=accurate&_count=1", true)
	if b.Total == nil || *b.Total != 8 || len(b.Entry) != 1 {
		t.Errorf("_total=accurate: total %v and %d entries, want 8 and 1", total(b), len(b.Entry))
	}
	if b = searchOK(t, tr, "_count=1", true); b.Total != nil {
		t.Errorf("a search that did not ask for a total got %d", *b.Total)
	}
	b = searchOK(t, tr, "_elements=outcome&_count=1", true)
	var ev map[string]any
	if err := json.Unmarshal(b.Entry[0].Resource, &ev); err != nil {
		t.Fatal(err)
	}
	if _, ok := ev["outcome"]; !ok {
		t.Errorf("_elements=outcome dropped outcome: %s", b.Entry[0].Resource)
	}
	if _, ok := ev["entity"]; ok {
		t.Errorf("_elements=outcome kept entity: %s", b.Entry[0].Resource)
	}
}
