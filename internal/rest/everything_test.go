package rest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// everythingResult is a $everything page's entries by mode, as Type/id.
type everythingResult struct {
	match, include, outcome []string
	next                    string
}

func readEverything(t *testing.T, r Response) everythingResult {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var b struct {
		Type  string
		Link  []struct{ Relation, URL string }
		Entry []struct {
			FullURL  string `json:"fullUrl"`
			Resource json.RawMessage
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.Type != "searchset" {
		t.Fatalf("not a searchset: %s", r.Body)
	}
	var out everythingResult
	for _, l := range b.Link {
		if l.Relation == "next" {
			out.next = l.URL
		}
	}
	for _, e := range b.Entry {
		ref := strings.TrimPrefix(e.FullURL, opsBase+"/")
		switch e.Search.Mode {
		case "match":
			out.match = append(out.match, ref)
		case "include":
			out.include = append(out.include, ref)
		case "outcome":
			out.outcome = append(out.outcome, issues(t, e.Resource)...)
		}
	}
	slices.Sort(out.match)
	slices.Sort(out.include)
	return out
}

// everythingWorld stores two patients' records. p1: an Observation with
// a practitioner performer, a Condition, a Media whose photo is Binary b1,
// and (through Patient.link) Patient p3. p2: an Observation and an
// Encounter. A deleted Observation of p1 is in nobody's record.
func everythingWorld(t *testing.T, s *Service) {
	for _, r := range []struct{ typ, id, body string }{
		{"Practitioner", "gp", `{"resourceType":"Practitioner","id":"gp"}`},
		{"Patient", "p1", `{"resourceType":"Patient","id":"p1","generalPractitioner":[{"reference":"Practitioner/gp"}]}`},
		{"Patient", "p2", `{"resourceType":"Patient","id":"p2"}`},
		{"Patient", "p3", `{"resourceType":"Patient","id":"p3","link":[{"other":{"reference":"Patient/p1"},"type":"seealso"}]}`},
		{"Observation", "o1", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"lesion size"},"subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/gp"}]}`},
		{"Observation", "o2", `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"lesion size"},"subject":{"reference":"Patient/p2"}}`},
		{"Observation", "odel", `{"resourceType":"Observation","id":"odel","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`},
		{"Condition", "c1", `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}}`},
		{"Binary", "b1", `{"resourceType":"Binary","id":"b1","contentType":"image/jpeg","data":"AAEC"}`},
		{"Media", "m1", `{"resourceType":"Media","id":"m1","status":"completed","subject":{"reference":"Patient/p1"},"content":{"contentType":"image/jpeg","url":"Binary/b1"}}`},
		{"Encounter", "e2", `{"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p2"}}`},
	} {
		put(t, s, r.typ, r.id, r.body)
	}
	if r := s.Delete(t.Context(), "Observation", "odel", ""); !r.OK() {
		t.Fatal(r.Status)
	}
}

func TestEverything(t *testing.T) {
	s := newOpsService(t)
	everythingWorld(t, s)
	p1 := []string{"Condition/c1", "Media/m1", "Observation/o1", "Patient/p1", "Patient/p3"}
	cases := []struct {
		name, id, query string
		body            string
		match, include  []string
		outcome         []string
	}{
		{"one patient", "p1", "", "", p1, []string{"Binary/b1", "Practitioner/gp"}, nil},
		{"another patient", "p2", "", "", []string{"Encounter/e2", "Observation/o2", "Patient/p2"}, nil, nil},
		{"_type without Patient", "p1", "_type=Observation,Condition", "", []string{"Condition/c1", "Observation/o1"}, []string{"Practitioner/gp"}, nil},
		{"_type with Patient", "p1", "_type=Patient&_type=Media", "", []string{"Media/m1", "Patient/p1", "Patient/p3"}, []string{"Binary/b1", "Practitioner/gp"}, nil},
		{"_type outside the compartment", "p1", "_type=Practitioner", "", nil, nil, []string{"warning not-supported _type"}},
		{"_since in the future", "p1", "_since=2999-01-01T00:00:00Z", "", nil, nil, nil},
		{"_since in the past", "p1", "_since=2000-01-01T00:00:00Z", "", p1, []string{"Binary/b1", "Practitioner/gp"}, nil},
		{"every patient", "", "", "", []string{"Condition/c1", "Encounter/e2", "Media/m1", "Observation/o1", "Observation/o2",
			"Patient/p1", "Patient/p2", "Patient/p3"}, []string{"Binary/b1", "Practitioner/gp"}, nil},
		{"every patient, _type", "", "_type=Observation", "", []string{"Observation/o1", "Observation/o2"}, []string{"Practitioner/gp"}, nil},
		{"POST Parameters", "p1", "", `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Condition"},{"name":"_count","valueInteger":10}]}`,
			[]string{"Condition/c1"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got := readEverything(t, s.Everything(t.Context(), tc.id, q, []byte(tc.body)))
			if !slices.Equal(got.match, tc.match) {
				t.Errorf("matches %v, want %v", got.match, tc.match)
			}
			if !slices.Equal(got.include, tc.include) {
				t.Errorf("included %v, want %v", got.include, tc.include)
			}
			if !slices.Equal(got.outcome, tc.outcome) {
				t.Errorf("outcome %v, want %v", got.outcome, tc.outcome)
			}
		})
	}
}

func TestEverythingPaging(t *testing.T) {
	s := newOpsService(t)
	everythingWorld(t, s)
	for _, id := range []string{"p1", ""} {
		var pages []everythingResult
		params := url.Values{"_count": {"2"}}
		for len(pages) < 20 {
			page := readEverything(t, s.Everything(t.Context(), id, params, nil))
			pages = append(pages, page)
			if page.next == "" {
				break
			}
			u, err := url.Parse(page.next)
			if err != nil {
				t.Fatal(err)
			}
			if want := "/Patient/" + id + "/$everything"; id != "" && u.Path != want {
				t.Errorf("next link path %q, want %q", u.Path, want)
			}
			params = u.Query()
		}
		var all []string
		for i, p := range pages {
			if len(p.match) > 2 {
				t.Errorf("%q page %d: %d matches, want at most 2", id, i, len(p.match))
			}
			all = append(all, p.match...)
		}
		slices.Sort(all)
		want := []string{"Condition/c1", "Media/m1", "Observation/o1", "Patient/p1", "Patient/p3"}
		if id == "" {
			want = []string{"Condition/c1", "Encounter/e2", "Media/m1", "Observation/o1", "Observation/o2", "Patient/p1", "Patient/p2", "Patient/p3"}
		}
		if !slices.Equal(all, want) {
			t.Errorf("%q: paged matches %v, want %v", id, all, want)
		}
	}
}

func TestEverythingErrors(t *testing.T) {
	s := newOpsService(t)
	everythingWorld(t, s)
	put(t, s, "Patient", "gone", `{"resourceType":"Patient","id":"gone"}`)
	s.Delete(t.Context(), "Patient", "gone", "")
	cases := []struct {
		name, id, query, body string
		status                int
		want                  []string
	}{
		{"unknown patient", "nobody", "", "", 404, []string{"error not-found"}},
		{"deleted patient", "gone", "", "", 410, []string{"error deleted"}},
		{"bad _since", "p1", "_since=yesterday", "", 400, []string{"error value _since"}},
		{"bad _count", "p1", "_count=many", "", 400, []string{"error value _count"}},
		{"bad _type", "p1", "_type=Observation,Nonsense", "", 400, []string{"error value _type"}},
		{"start is not supported", "p1", "start=2020-01-01", "", 400, []string{"error not-supported start"}},
		{"end in a Parameters", "p1", "", `{"resourceType":"Parameters","parameter":[{"name":"end","valueDate":"2020-01-01"}]}`, 400,
			[]string{"error not-supported end"}},
		{"body not a Parameters", "p1", "", `{"resourceType":"Patient"}`, 400, []string{"error invalid resourceType"}},
		{"bad cursor", "p1", "_cursor=bm90IGEgY3Vyc29y", "", 410, []string{"error processing _cursor"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			r := s.Everything(t.Context(), tc.id, q, []byte(tc.body))
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if got := issues(t, r.Body); !slices.Equal(got, tc.want) {
				t.Errorf("issues %q, want %q", got, tc.want)
			}
		})
	}
}
