package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hookLog is a rest-hook receiver in the test process: it records the
// event numbers and foci of every notification, a little slowly, so that
// a backlog of committed but undelivered events builds up.
type hookLog struct {
	mu     sync.Mutex
	events map[int64]string // event number -> focus
	dups   int
	calls  int
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	time.Sleep(20 * time.Millisecond)
	var bundle struct {
		Entry []struct {
			Resource struct {
				Parameter []struct {
					Name string `json:"name"`
					Part []struct {
						Name           string `json:"name"`
						ValueString    string `json:"valueString"`
						ValueReference struct {
							Reference string `json:"reference"`
						} `json:"valueReference"`
					} `json:"part"`
				} `json:"parameter"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(b, &bundle) != nil || len(bundle.Entry) == 0 {
		http.Error(w, "not a notification", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	for _, p := range bundle.Entry[0].Resource.Parameter {
		if p.Name != "notification-event" {
			continue
		}
		var n int64
		var focus string
		for _, pt := range p.Part {
			switch pt.Name {
			case "event-number":
				n, _ = strconv.ParseInt(pt.ValueString, 10, 64)
			case "focus":
				focus = pt.ValueReference.Reference
			}
		}
		if _, seen := h.events[n]; seen {
			h.dups++
		}
		h.events[n] = focus
	}
}

func (h *hookLog) snapshot() (map[int64]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int64]string, len(h.events))
	for k, v := range h.events {
		out[k] = v
	}
	return out, h.dups
}

// TestSubscriptionEventsSurviveSIGKILL kills the server with SIGKILL while
// Patients are being created and notifications delivered, restarts it on
// the same data, and checks that every acknowledged create is delivered
// as an event, with event numbers 1..N and no gap (duplicates, which
// at-least-once allows, are counted).
func TestSubscriptionEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	hooks := &hookLog{events: map[int64]string{}}
	rc := httptest.NewServer(hooks)
	defer rc.Close()
	dir := t.TempDir()
	const base = "http://telederm.test" // the same across restarts: topic canonicals use it
	args := "--auth off --addr 127.0.0.1:0 --audit off --base-url " + base + " --subscriptions-allow 127.0.0.1:* --data " + dir
	p := startServe(t, args)

	sub := fmt.Sprintf(`{"resourceType":"Subscription","meta":{"profile":["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"]},
		"status":"requested","reason":"kill test","criteria":"%s/SubscriptionTopic/Patient-create",
		"channel":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count","valuePositiveInt":20}],
		"type":"rest-hook","endpoint":"%s/hook","payload":"application/fhir+json",
		"_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]}}}`, base, rc.URL)
	resp, err := http.Post(p.base+"/Subscription", "application/fhir+json", strings.NewReader(sub))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create the subscription: %d", resp.StatusCode)
	}
	waitActive := func(srv string) {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			resp, err := http.Get(srv + "/Subscription/" + created.ID)
			if err == nil {
				var s struct{ Status string }
				json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
				if s.Status == "active" {
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("the subscription never became active")
	}
	waitActive(p.base)

	var (
		mu    sync.Mutex
		acked []string
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(p.base+"/Patient", "application/fhir+json", strings.NewReader(`{"resourceType":"Patient"}`))
				if err != nil {
					return // the server is gone
				}
				var pt struct{ ID string }
				json.NewDecoder(resp.Body).Decode(&pt)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, base+"/Patient/"+pt.ID)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	close(stop)
	wg.Wait()
	before, _ := hooks.snapshot()
	if len(acked) < 50 {
		t.Fatalf("only %d creates acknowledged before the kill", len(acked))
	}
	t.Logf("killed with %d creates acknowledged and %d events delivered", len(acked), len(before))
	if len(before) >= len(acked) {
		t.Fatal("nothing was pending at the kill: the receiver kept up, so the test proves nothing")
	}

	startServe(t, args)
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, _ := hooks.snapshot()
		foci := map[string]bool{}
		for _, f := range got {
			foci[f] = true
		}
		missing := 0
		for _, a := range acked {
			if !foci[a] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged creates never arrived as events after the restart", missing, len(acked))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the last batch land
	got, dups := hooks.snapshot()
	var last int64
	for n := range got {
		last = max(last, n)
	}
	for n := int64(1); n <= last; n++ {
		if _, ok := got[n]; !ok {
			t.Fatalf("event %d missing: numbers are not continuous (%d events, last %d)", n, len(got), last)
		}
	}
	foci := map[string]int64{}
	for n, f := range got {
		if prev, ok := foci[f]; ok {
			t.Errorf("Patient %s is events %d and %d", f, prev, n)
		}
		foci[f] = n
	}
	t.Logf("after the restart: %d events, numbers 1..%d continuous, %d redelivered (at least once), %d acknowledged creates all present",
		len(got), last, dups, len(acked))
}
