package conformance

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"testing"
)

const concurrentWriters = 20

// TestConcurrentConditionalUpdates: 20 clients race to update one resource,
// each pinning the version it read with If-Match. For every version exactly
// one of them wins; the others get 412 and retry from a fresh read.
func TestConcurrentConditionalUpdates(t *testing.T) {
	base := target(t)
	url := base + "/Patient/race-if-match"
	if r := do(t, http.MethodPut, url, patientBody("race-if-match", 0)); r.status != http.StatusCreated {
		t.Fatalf("seed: %d %s", r.status, r.body)
	}
	const updatesEach = 5
	var (
		mu      sync.Mutex
		winners = map[string]int{} // version written -> successful updates that wrote it
		lost    int
		wg      sync.WaitGroup
	)
	for w := range concurrentWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < updatesEach; {
				cur := do(t, http.MethodGet, url, nil)
				etag := cur.header.Get("ETag")
				r := do(t, http.MethodPut, url, patientBody("race-if-match", w*100+done), "If-Match", etag)
				mu.Lock()
				switch r.status {
				case http.StatusOK:
					winners[r.header.Get("ETag")]++
					done++
				case http.StatusPreconditionFailed:
					lost++
				default:
					t.Errorf("unexpected %d: %s", r.status, r.body)
					done = updatesEach
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := concurrentWriters * updatesEach
	for etag, n := range winners {
		if n != 1 {
			t.Errorf("version %s was written by %d updates", etag, n)
		}
	}
	if len(winners) != total {
		t.Errorf("%d distinct versions for %d successful updates", len(winners), total)
	}
	checkVersionsGapless(t, url, total+1)
	t.Logf("%d updates won, %d lost with 412 and retried", total, lost)
}

// TestConcurrentUnconditionalUpdates: without If-Match every update lands,
// and the versions come out 1..N with no gaps or duplicates.
func TestConcurrentUnconditionalUpdates(t *testing.T) {
	base := target(t)
	url := base + "/Patient/race-blind"
	const updatesEach = 10
	var wg sync.WaitGroup
	for w := range concurrentWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range updatesEach {
				r := do(t, http.MethodPut, url, patientBody("race-blind", w*100+i))
				if r.status != http.StatusOK && r.status != http.StatusCreated {
					t.Errorf("update: %d %s", r.status, r.body)
					return
				}
			}
		}()
	}
	wg.Wait()
	checkVersionsGapless(t, url, concurrentWriters*updatesEach)
}

func patientBody(id string, n int) []byte {
	return fmt.Appendf(nil, `{"resourceType":"Patient","id":%q,"name":[{"family":"Writer","given":["%d"]}]}`, id, n)
}

// checkVersionsGapless reads the instance history and checks versions 1..n
// each appear exactly once, and the current version is n.
func checkVersionsGapless(t *testing.T, url string, n int) {
	t.Helper()
	var versions []int
	next := url + "/_history?_count=37"
	for next != "" {
		r := do(t, http.MethodGet, next, nil)
		if r.status != http.StatusOK {
			t.Fatalf("history: %d %s", r.status, r.body)
		}
		b := decodeBundle(t, r.body)
		for _, e := range b.Entry {
			v, ok := parseETag(e.Response.Etag)
			if !ok {
				t.Fatalf("entry without a version ETag: %+v", e.Response)
			}
			versions = append(versions, v)
		}
		next = b.link("next")
	}
	sort.Ints(versions)
	if len(versions) != n {
		t.Errorf("history has %d versions, want %d", len(versions), n)
	}
	for i, v := range versions {
		if v != i+1 {
			t.Fatalf("versions not 1..%d without gaps: position %d holds %d", n, i, v)
		}
	}
	cur := do(t, http.MethodGet, url, nil)
	if cur.header.Get("ETag") != fmt.Sprintf(`W/"%d"`, n) {
		t.Errorf("current ETag %s, want W/\"%d\"", cur.header.Get("ETag"), n)
	}
}

func parseETag(s string) (int, bool) {
	if len(s) < 5 || s[:3] != `W/"` || s[len(s)-1] != '"' {
		return 0, false
	}
	v, err := strconv.Atoi(s[3 : len(s)-1])
	return v, err == nil
}

// TestConcurrentConditionalCreate: identical If-None-Exist creates racing
// each other (a GP system retrying a submission still in flight), as single
// requests and inside transactions, create one resource between them.
func TestConcurrentConditionalCreate(t *testing.T) {
	base := target(t)
	const racers = 12
	body := []byte(`{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]}`)
	tx := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}]},` +
		`"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919"}}]}`)
	var wg sync.WaitGroup
	statuses := make([]int, racers)
	for i := range racers {
		wg.Go(func() {
			var r reply
			if i%2 == 0 {
				r = do(t, http.MethodPost, base+"/Patient", body, "If-None-Exist", "identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919")
			} else {
				r = do(t, http.MethodPost, base, tx)
			}
			statuses[i] = r.status
		})
	}
	wg.Wait()
	created := 0
	for i, st := range statuses {
		switch {
		case st == http.StatusCreated:
			created++
		case st != http.StatusOK:
			t.Errorf("racer %d: status %d", i, st)
		}
	}
	n, err := countOf(t, base, "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&_summary=count")
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d patients with the NHS number after %d racing conditional creates, want 1", n, racers)
	}
	if created > 1 {
		t.Errorf("%d single requests answered 201", created)
	}
}
