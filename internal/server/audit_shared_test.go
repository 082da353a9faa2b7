package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/audit"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// TestTwoProcessesShareTheAuditTrail: two server processes on one MongoDB
// database (an in-process FerretDB), behind one public base URL: a read
// through one is found by an AuditEvent search through the other, which
// renders it as the first does; paging through the events both recorded
// sees each exactly once, through either process.
func TestTwoProcessesShareTheAuditTrail(t *testing.T) {
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB to run two processes on: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	const public = "http://fhir.example.test" // the load balancer's address
	var dirs []string
	start := func() string {
		dirs = append(dirs, t.TempDir())
		return servertest.Process(t, server.Config{DataDir: dirs[len(dirs)-1], BaseURL: public, Store: uri, Auth: "off", NoWorkflow: true})
	}
	a, b := start(), start()
	defer func() { // the trail is the database's alone
		for _, dir := range dirs {
			if _, err := os.Stat(filepath.Join(dir, audit.FileName)); !os.IsNotExist(err) {
				t.Errorf("%s in a process's data directory: %v", audit.FileName, err)
			}
		}
	}()
	local := func(base, link string) string { return base + strings.TrimPrefix(link, public) }

	p1 := createPatient(t, a, "One")
	p2 := createPatient(t, b, "Two")
	if status, _ := auditGet(t, a+"/Patient/"+p1, "read-of-p1"); status != http.StatusOK {
		t.Fatalf("read through A: %d", status)
	}

	// The read through A, searched through B, by the resource and by the
	// patient.
	var found searchset
	waitFor(t, "B to find A's read of the patient", func() bool {
		found = search(t, b+"/AuditEvent?entity=Patient/"+p1+"&subtype=read")
		return len(found.Entry) == 1
	})
	ev := found.Entry[0].Resource
	if byPatient := search(t, b+"/AuditEvent?patient="+p1+"&subtype=read"); len(byPatient.Entry) != 1 ||
		!bytes.Equal(byPatient.Entry[0].Resource, ev) {
		t.Errorf("patient=%s through B: %d events, want the read", p1, len(byPatient.Entry))
	}
	var read auditEvent
	if err := json.Unmarshal(ev, &read); err != nil {
		t.Fatal(err)
	}
	if read.Action != "R" || len(read.Subtype) != 1 || read.Subtype[0].Code != "read" || read.Outcome != "0" ||
		!slices.Contains(read.what(), "Patient/"+p1) || !slices.Contains(read.identifiers(), "read-of-p1") {
		t.Errorf("the read as B renders it: %s", ev)
	}
	// A renders the event as B does.
	statusA, atA := auditGet(t, a+"/AuditEvent/"+read.ID, "")
	statusB, atB := auditGet(t, b+"/AuditEvent/"+read.ID, "")
	if statusA != http.StatusOK || statusB != http.StatusOK || !bytes.Equal(atA, atB) || !bytes.Equal(atA, ev) {
		t.Errorf("AuditEvent/%s: A %d %s, B %d %s, B's search %s", read.ID, statusA, atA, statusB, atB, ev)
	}

	// Reads of p2 through both processes, in turn; paged through each.
	const n = 14
	var want []string
	for i := range n {
		via, rid := a, fmt.Sprintf("a-read-%d", i)
		if i%2 == 1 {
			via, rid = b, fmt.Sprintf("b-read-%d", i)
		}
		if status, _ := auditGet(t, via+"/Patient/"+p2, rid); status != http.StatusOK {
			t.Fatalf("read %s: %d", rid, status)
		}
		want = append(want, rid)
	}
	query := "/AuditEvent?entity=Patient/" + p2 + "&subtype=read&_count=4"
	waitFor(t, "both processes' reads to be searchable", func() bool {
		return len(search(t, a+"/AuditEvent?entity=Patient/"+p2+"&subtype=read&_count=100").Entry) == n
	})
	for _, via := range []string{a, b} {
		for _, order := range []string{"", "&_sort=date"} {
			var got, ids []string
			next := via + query + order
			for pages := 0; next != ""; pages++ {
				if pages > n {
					t.Fatalf("%s: more pages than events", query+order)
				}
				page := search(t, next)
				for _, e := range page.Entry {
					var ev auditEvent
					if err := json.Unmarshal(e.Resource, &ev); err != nil {
						t.Fatal(err)
					}
					ids = append(ids, ev.ID)
					got = append(got, ev.identifiers()...)
				}
				next = ""
				if l := page.link("next"); l != "" {
					next = local(via, l)
				}
			}
			if order == "" {
				slices.Reverse(got) // newest first
			}
			if !slices.Equal(got, want) {
				t.Errorf("paging %s%s through %s: saw %v, want each read once, in order: %v", query, order, via, got, want)
			}
			slices.Sort(ids)
			if len(slices.Compact(ids)) != n {
				t.Errorf("paging %s%s: %d distinct ids, want %d", query, order, len(ids), n)
			}
		}
	}
}

func createPatient(t *testing.T, base, family string) string {
	t.Helper()
	resp, err := http.Post(base+"/Patient", "application/fhir+json",
		strings.NewReader(`{"resourceType":"Patient","name":[{"family":"`+family+`"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create Patient: %d %v", resp.StatusCode, err)
	}
	return out.ID
}

// auditGet is a GET with an X-Request-Id, when not empty.
func auditGet(t *testing.T, url, requestID string) (int, []byte) {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if requestID != "" {
		r.Header.Set("X-Request-Id", requestID)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

type searchset struct {
	Link []struct{ Relation, URL string }
	// Entry keeps each resource as the server wrote it.
	Entry []struct{ Resource json.RawMessage }
}

func (s searchset) link(rel string) string {
	for _, l := range s.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

func search(t *testing.T, url string) searchset {
	t.Helper()
	status, body := auditGet(t, url, "")
	var s searchset
	if err := json.Unmarshal(body, &s); err != nil || status != http.StatusOK {
		t.Fatalf("%s: %d %s", url, status, body)
	}
	return s
}

// auditEvent is the part of an AuditEvent the test reads.
type auditEvent struct {
	ID      string
	Action  string
	Outcome string
	Subtype []struct{ Code string }
	Entity  []struct {
		What *struct {
			Reference  string
			Identifier *struct{ Value string }
		}
	}
}

// what are the references of the entities.
func (e auditEvent) what() []string {
	var out []string
	for _, en := range e.Entity {
		if en.What != nil && en.What.Reference != "" {
			out = append(out, en.What.Reference)
		}
	}
	return out
}

// identifiers are the entities' identifiers: the request id.
func (e auditEvent) identifiers() []string {
	var out []string
	for _, en := range e.Entity {
		if en.What != nil && en.What.Identifier != nil {
			out = append(out, en.What.Identifier.Value)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 seconds for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
