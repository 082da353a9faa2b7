package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// loadReferral stores the project's referral-shaped resources: a Patient,
// GP practice and GP, a ServiceRequest, a checklist Observation, a Binary
// photo, the Media pointing at it and the consultant's DiagnosticReport.
func loadReferral(t *testing.T, base string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "fhir", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ex := newExample(t, b)
		if r := do(t, http.MethodPut, base+"/"+ex.name, b); r.status >= 300 {
			t.Fatalf("PUT %s: %d %s", ex.name, r.status, r.body)
		}
	}
}

// found is a search result: the Type/id of each entry with its mode.
type found struct{ match, include []string }

func searchFor(t *testing.T, base, query string, headers ...string) found {
	t.Helper()
	r := do(t, http.MethodGet, base+"/"+query, nil, headers...)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", query, r.status, r.body)
	}
	var out found
	var modes struct {
		Entry []struct {
			FullURL string `json:"fullUrl"`
			Search  struct{ Mode string }
		}
	}
	decodeInto(t, r.body, &modes)
	for _, e := range modes.Entry {
		id := strings.TrimPrefix(e.FullURL, base+"/")
		switch e.Search.Mode {
		case "match":
			out.match = append(out.match, id)
		case "include":
			out.include = append(out.include, id)
		}
	}
	sort.Strings(out.include)
	return out
}

func TestSearchReferral(t *testing.T) {
	base := target(t)
	loadReferral(t, base)
	tests := []struct {
		name, query    string
		match, include []string
	}{
		{"token system|code", "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", []string{"Patient/td-patient-1"}, nil},
		{"string accent-insensitive prefix", "Patient?name=zoe", []string{"Patient/td-patient-1"}, nil},
		{"string family with accents", "Patient?family=O%20Su", []string{"Patient/td-patient-1"}, nil},
		{"string :exact", "Patient?family:exact=%C3%93%20S%C3%BAilleabh%C3%A1in", []string{"Patient/td-patient-1"}, nil},
		{"string :exact is case-sensitive", "Patient?family:exact=%C3%B3%20s%C3%BAilleabh%C3%A1in", nil, nil},
		{"date year", "Patient?birthdate=1962", []string{"Patient/td-patient-1"}, nil},
		{"date lt", "Patient?birthdate=lt1962-07-14", nil, nil},
		{"date le", "Patient?birthdate=le1962-07-14", []string{"Patient/td-patient-1"}, nil},
		{"reference", "ServiceRequest?subject=Patient/td-patient-1", []string{"ServiceRequest/td-referral-1"}, nil},
		{"reference with type modifier", "ServiceRequest?subject:Patient=td-patient-1", []string{"ServiceRequest/td-referral-1"}, nil},
		{"chain", "ServiceRequest?subject:Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919", []string{"ServiceRequest/td-referral-1"}, nil},
		{"two-level chain", "Media?based-on:ServiceRequest.subject:Patient.birthdate=1962-07-14", []string{"Media/td-media-1"}, nil},
		{"chain to a missing value", "ServiceRequest?subject:Patient.name=nobody", nil, nil},
		{"_has", "Patient?_has:ServiceRequest:subject:code=http://snomed.info/sct|700241009", []string{"Patient/td-patient-1"}, nil},
		{"nested _has", "Patient?_has:ServiceRequest:subject:_has:DiagnosticReport:based-on:status=final", []string{"Patient/td-patient-1"}, nil},
		{"_include", "ServiceRequest?_id=td-referral-1&_include=ServiceRequest:subject&_include=ServiceRequest:requester",
			[]string{"ServiceRequest/td-referral-1"}, []string{"Patient/td-patient-1", "Practitioner/td-gp-1"}},
		{"_revinclude", "ServiceRequest?_id=td-referral-1&_revinclude=Media:based-on&_revinclude=DiagnosticReport:based-on",
			[]string{"ServiceRequest/td-referral-1"}, []string{"DiagnosticReport/td-advice-1", "Media/td-media-1"}},
		{"_include:iterate", "ServiceRequest?_id=td-referral-1&_include=ServiceRequest:subject&_include:iterate=Patient:general-practitioner",
			[]string{"ServiceRequest/td-referral-1"}, []string{"Organization/td-practice-1", "Patient/td-patient-1"}},
		{"_revinclude then _include:iterate", "ServiceRequest?_id=td-referral-1&_revinclude=DiagnosticReport:based-on&_include:iterate=DiagnosticReport:media",
			[]string{"ServiceRequest/td-referral-1"}, []string{"DiagnosticReport/td-advice-1", "Media/td-media-1"}},
		{"_include wildcard", "Media?_id=td-media-1&_include=Media:*",
			[]string{"Media/td-media-1"}, []string{"Patient/td-patient-1", "ServiceRequest/td-referral-1"}},
		{"worklist: referral with patient and photos", "ServiceRequest?code=700241009&_include=ServiceRequest:patient&_revinclude=Media:based-on",
			[]string{"ServiceRequest/td-referral-1"}, []string{"Media/td-media-1", "Patient/td-patient-1"}},
		{"compartment", "Patient/td-patient-1/ServiceRequest", []string{"ServiceRequest/td-referral-1"}, nil},
		{"compartment with criteria", "Patient/td-patient-1/DiagnosticReport?status=final", []string{"DiagnosticReport/td-advice-1"}, nil},
		{"quantity with unit", "Observation?component-value-quantity=gt8|http://unitsofmeasure.org|mm", []string{"Observation/td-checklist-1"}, nil},
		{"quantity out of range", "Observation?component-value-quantity=gt9|http://unitsofmeasure.org|mm", nil, nil},
		{"composite", "Observation?component-code-value-quantity=Lesion%20diameter$8.50", nil, nil},
		{":missing=true", "Patient?death-date:missing=true", []string{"Patient/td-patient-1"}, nil},
		{":missing=false", "Patient?birthdate:missing=false", []string{"Patient/td-patient-1"}, nil},
		{":missing=true on a present value", "Patient?birthdate:missing=true", nil, nil},
		{"boolean expression parameter", "Patient?deceased=false", []string{"Patient/td-patient-1"}, nil},
		{":not", "ServiceRequest?status:not=completed", []string{"ServiceRequest/td-referral-1"}, nil},
		{"system search with _type, sorted by id", "?_type=Patient,Practitioner&_sort=_id", []string{"Practitioner/td-gp-1", "Patient/td-patient-1"}, nil},
		{"sort descending", "?_type=Patient,Practitioner,Organization&_sort=-_id", []string{"Organization/td-practice-1", "Patient/td-patient-1", "Practitioner/td-gp-1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := searchFor(t, base, tt.query)
			if !slices.Equal(got.match, tt.match) || !slices.Equal(got.include, tt.include) {
				t.Errorf("%s\n got match %v include %v\nwant match %v include %v", tt.query, got.match, got.include, tt.match, tt.include)
			}
		})
	}
}

func TestSearchHandling(t *testing.T) {
	base := target(t)
	loadReferral(t, base)
	// lenient by default: the unknown parameter is ignored and left out of self
	r := do(t, http.MethodGet, base+"/Patient?shoeSize=44&name=zoe", nil)
	b := decodeBundle(t, r.body)
	if r.status != http.StatusOK || len(b.Entry) == 0 || strings.Contains(b.link("self"), "shoeSize") {
		t.Errorf("lenient: %d self %q", r.status, b.link("self"))
	}
	strict := do(t, http.MethodGet, base+"/Patient?shoeSize=44", nil, "Prefer", "handling=strict")
	if strict.status != http.StatusBadRequest || !decodeOutcome(t, strict.body).hasIssue("", "shoeSize") {
		t.Errorf("strict: %d %s", strict.status, strict.body)
	}
	bad := do(t, http.MethodGet, base+"/Patient?birthdate=notadate", nil)
	if bad.status != http.StatusBadRequest || !decodeOutcome(t, bad.body).hasIssue("", "birthdate") {
		t.Errorf("bad value: %d %s", bad.status, bad.body)
	}
	// POST _search with a form body gives the same answer as GET.
	post := do(t, http.MethodPost, base+"/Patient/_search", []byte("name=zoe"), "Content-Type", "application/x-www-form-urlencoded")
	if post.status != http.StatusOK || len(decodeBundle(t, post.body).Entry) != 1 {
		t.Errorf("POST _search: %d %s", post.status, post.body)
	}
	// _summary=count: the total only.
	cnt := decodeBundle(t, do(t, http.MethodGet, base+"/Patient?_summary=count", nil).body)
	if cnt.Total == nil || *cnt.Total != 1 || len(cnt.Entry) != 0 {
		t.Errorf("_summary=count: total %v, %d entries", cnt.Total, len(cnt.Entry))
	}
	// _elements keeps what was asked and marks the resource SUBSETTED.
	el := do(t, http.MethodGet, base+"/Patient?_elements=birthDate", nil)
	if !strings.Contains(string(el.body), "SUBSETTED") || strings.Contains(string(el.body), `"name"`) || !strings.Contains(string(el.body), `"birthDate"`) {
		t.Errorf("_elements: %s", el.body)
	}
	// unknown type
	if r := do(t, http.MethodGet, base+"/Spaceship?name=x", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown type: %d", r.status)
	}
}

func TestConditionalInteractions(t *testing.T) {
	base := target(t)
	nhs := "https://fhir.nhs.uk/Id/nhs-number|9990000018"
	body := []byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],"active":true}`)
	first := do(t, http.MethodPost, base+"/Patient", body, "If-None-Exist", "identifier="+url.QueryEscape(nhs))
	if first.status != http.StatusCreated {
		t.Fatalf("conditional create: %d %s", first.status, first.body)
	}
	again := do(t, http.MethodPost, base+"/Patient", body, "If-None-Exist", "identifier="+url.QueryEscape(nhs))
	if again.status != http.StatusOK || again.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("second conditional create: %d %q vs %q", again.status, again.header.Get("Location"), first.header.Get("Location"))
	}
	// conditional update: one match is updated in place
	upd := do(t, http.MethodPut, base+"/Patient?identifier="+url.QueryEscape(nhs), []byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],"active":false}`))
	if upd.status != http.StatusOK || upd.header.Get("ETag") != `W/"2"` {
		t.Errorf("conditional update: %d %s %s", upd.status, upd.header.Get("ETag"), upd.body)
	}
	// no match creates
	create := do(t, http.MethodPut, base+"/Patient?identifier="+url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|9990000026"), []byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000026"}]}`))
	if create.status != http.StatusCreated {
		t.Errorf("conditional update without match: %d %s", create.status, create.body)
	}
	// several matches: 412 for create and update
	do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","active":false,"gender":"other"}`))
	do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","active":false,"gender":"other"}`))
	if r := do(t, http.MethodPost, base+"/Patient", body, "If-None-Exist", "gender=other"); r.status != http.StatusPreconditionFailed {
		t.Errorf("conditional create with 2 matches: %d", r.status)
	}
	if r := do(t, http.MethodPut, base+"/Patient?gender=other", []byte(`{"resourceType":"Patient"}`)); r.status != http.StatusPreconditionFailed {
		t.Errorf("conditional update with 2 matches: %d", r.status)
	}
	// conditional delete removes all matches
	if r := do(t, http.MethodDelete, base+"/Patient?gender=other", nil); r.status != http.StatusNoContent {
		t.Errorf("conditional delete: %d %s", r.status, r.body)
	}
	if got := searchFor(t, base, "Patient?gender=other"); len(got.match) != 0 {
		t.Errorf("deleted resources still found: %v", got.match)
	}
	// criteria the server does not understand never widen a conditional write
	if r := do(t, http.MethodDelete, base+"/Patient?shoeSize=44", nil); r.status != http.StatusBadRequest {
		t.Errorf("conditional delete with an unknown parameter: %d", r.status)
	}
}

// TestSearchPagingWhileWriting pages through 1,000 matches 50 at a time while
// other clients add matching and non-matching resources: every one of the
// original 1,000 is seen exactly once.
func TestSearchPagingWhileWriting(t *testing.T) {
	base := target(t)
	const n = 1000
	var wg sync.WaitGroup
	ids := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				body := fmt.Appendf(nil, `{"resourceType":"Observation","id":"page-%04d","status":"final","code":{"coding":[{"system":"http://example.org","code":"paged"}]}}`, i)
				if r := do(t, http.MethodPut, fmt.Sprintf("%s/Observation/page-%04d", base, i), body); r.status != http.StatusCreated {
					t.Errorf("seed: %d", r.status)
				}
			}
		}()
	}
	for i := range n {
		ids <- i
	}
	close(ids)
	wg.Wait()

	var stop atomic.Bool
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; !stop.Load(); i++ {
				code := "paged"
				if i%2 == 1 {
					code = "other"
				}
				do(t, http.MethodPost, base+"/Observation", fmt.Appendf(nil, `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://example.org","code":%q}]},"valueInteger":%d}`, code, w*100000+i))
			}
		}()
	}
	seen := map[string]int{}
	next := base + "/Observation?code=http://example.org|paged&_count=50"
	pages := 0
	for next != "" {
		r := do(t, http.MethodGet, next, nil)
		if r.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		b := decodeBundle(t, r.body)
		for _, e := range b.Entry {
			seen[e.FullURL[strings.LastIndex(e.FullURL, "/")+1:]]++
		}
		next = b.link("next")
		pages++
	}
	stop.Store(true)
	writers.Wait()
	for i := range n {
		id := fmt.Sprintf("page-%04d", i)
		if seen[id] != 1 {
			t.Errorf("%s seen %d times", id, seen[id])
		}
	}
	for id, c := range seen {
		if c > 1 {
			t.Errorf("%s seen %d times", id, c)
		}
	}
	t.Logf("%d pages, %d distinct matches (%d added while paging)", pages, len(seen), len(seen)-n)
	// an invalid page link expires cleanly
	if r := do(t, http.MethodGet, base+"/Observation?code=http://example.org|paged&_cursor=bogus", nil); r.status != http.StatusGone {
		t.Errorf("bad cursor: %d", r.status)
	} else {
		decodeOutcome(t, r.body)
	}
}

func TestSearchNotSupported(t *testing.T) {
	base := target(t)
	for _, q := range []string{
		"Patient?_list=$current-allergies",
		"Observation?code:in=http://example.org/ValueSet/x",
		"Observation?code:below=http://snomed.info/sct|123",
		"Patient?_contained=true",
	} {
		r := do(t, http.MethodGet, base+"/"+q, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, r.status, r.body)
			continue
		}
		if o := decodeOutcome(t, r.body); o.Issue[0].Code != "not-supported" && o.Issue[0].Code != "invalid" && o.Issue[0].Code != "value" {
			t.Errorf("%s: %s", q, r.body)
		}
	}
}

// TestSearchList: _list=id finds the resources a List holds as entries.
func TestSearchList(t *testing.T) {
	base := target(t)
	var ids []string
	for i := 0; i < 3; i++ {
		r := do(t, http.MethodPost, base+"/Patient", []byte(`{"resourceType":"Patient","active":true}`))
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d", r.status)
		}
		var p struct{ ID string }
		decodeInto(t, r.body, &p)
		ids = append(ids, p.ID)
	}
	list := fmt.Sprintf(`{"resourceType":"List","id":"worklist","status":"current","mode":"working","entry":[{"item":{"reference":"Patient/%s"}},{"item":{"reference":"Patient/%s"}}]}`, ids[0], ids[2])
	if r := do(t, http.MethodPut, base+"/List/worklist", []byte(list)); r.status != http.StatusCreated {
		t.Fatalf("put list: %d %s", r.status, r.body)
	}
	got := searchFor(t, base, "Patient?_list=worklist&_sort=_id")
	want := []string{"Patient/" + ids[0], "Patient/" + ids[2]}
	slices.Sort(want)
	if !slices.Equal(got.match, want) {
		t.Errorf("Patient?_list=worklist: %v, want %v", got.match, want)
	}
}

// TestCompartmentSearchAll: GET Patient/[id]/* finds every resource of the
// patient's compartment, of every type, and only those.
func TestCompartmentSearchAll(t *testing.T) {
	base := target(t)
	loadReferral(t, base)
	all := searchFor(t, base, "Patient/td-patient-1/*?_count=100")
	if len(all.match) < 3 || !slices.Contains(all.match, "Patient/td-patient-1") {
		t.Fatalf("Patient/td-patient-1/* matched %v", all.match)
	}
	for _, m := range all.match {
		typ, _, _ := strings.Cut(m, "/")
		if typ == "Patient" && m != "Patient/td-patient-1" {
			t.Errorf("another patient in the compartment: %s", m)
		}
		if typ == "Organization" || typ == "Practitioner" {
			t.Errorf("%s is not in the Patient compartment", m)
		}
	}
	// Each typed compartment search agrees with the * search.
	for _, typ := range []string{"ServiceRequest", "Media", "Observation", "DiagnosticReport"} {
		one := searchFor(t, base, "Patient/td-patient-1/"+typ+"?_count=100")
		var fromAll []string
		for _, m := range all.match {
			if strings.HasPrefix(m, typ+"/") {
				fromAll = append(fromAll, m)
			}
		}
		slices.Sort(fromAll)
		got := slices.Clone(one.match)
		slices.Sort(got)
		if !slices.Equal(got, fromAll) {
			t.Errorf("%s: typed search %v, * search %v", typ, got, fromAll)
		}
	}
	narrowed := searchFor(t, base, "Patient/td-patient-1/*?_type=Media")
	for _, m := range narrowed.match {
		if !strings.HasPrefix(m, "Media/") {
			t.Errorf("_type=Media returned %s", m)
		}
	}
	if none := searchFor(t, base, "Patient/td-patient-1/*?_type=Organization"); len(none.match) != 0 {
		t.Errorf("_type=Organization (not in the compartment) matched %v", none.match)
	}
}
