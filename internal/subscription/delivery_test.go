package subscription_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/subscription"
)

const obsForPatient = `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"%s"}]},"subject":{"reference":"Patient/%s"}}`

func observation(code, patient string) string {
	return strings.Replace(strings.Replace(obsForPatient, "%s", code, 1), "%s", patient, 1)
}

// Each payload content, on a real delivery: empty carries only the
// status, id-only the focus and an entry without the resource,
// full-resource the resource as stored. Headers and the payload's MIME
// type are sent as the subscription says.
func TestPayloadContents(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	receivers := map[string]*receiver{}
	for _, content := range []string{"empty", "id-only", "full-resource"} {
		rc := newReceiver(t, nil)
		receivers[content] = rc
		body := topicSubscription(base, "Observation-create", rc.url(), content)
		if content == "full-resource" {
			var m map[string]any
			json.Unmarshal([]byte(body), &m)
			ch := m["channel"].(map[string]any)
			ch["header"] = []string{"Authorization: Bearer receiver-secret", "X-Tenant: derm"}
			ch["payload"] = "application/json"
			b, _ := json.Marshal(m)
			body = string(b)
		}
		mustCreate(t, base, "Subscription", body)
	}
	for _, rc := range receivers {
		waitFor(t, 10*time.Second, "handshakes", func() bool { return len(rc.accepted(t)) >= 1 })
	}
	oid := mustCreate(t, base, "Observation", observation("1234-5", "p1"))
	for content, rc := range receivers {
		waitFor(t, 10*time.Second, content+" event", func() bool { return len(rc.accepted(t)) >= 2 })
		n := rc.accepted(t)[1]
		if n.Type != "event-notification" || len(n.Events) != 1 || n.Events[0] != 1 {
			t.Fatalf("%s: %+v", content, n)
		}
		switch content {
		case "empty":
			if len(n.Foci) != 0 || len(n.Entries) != 0 {
				t.Errorf("empty payload shows foci %v and %d entries", n.Foci, len(n.Entries))
			}
		case "id-only":
			if len(n.Foci) != 1 || n.Foci[0] != base+"/Observation/"+oid || len(n.Entries) != 1 || n.Entries[0] != nil {
				t.Errorf("id-only: foci %v entries %q", n.Foci, n.Entries)
			}
		case "full-resource":
			_, stored := fhirCall(t, http.MethodGet, base+"/Observation/"+oid+"/_history/1", nil)
			var got map[string]any
			if len(n.Entries) != 1 || json.Unmarshal(n.Entries[0], &got) != nil || mustJSON(got) != mustJSON(stored) {
				t.Errorf("full-resource entry %s, want the stored version %v", n.Entries, stored)
			}
			h := rc.all()[1].header
			if h.Get("Authorization") != "Bearer receiver-secret" || h.Get("X-Tenant") != "derm" || h.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", h)
			}
		}
	}
}

// Filters (backport) and R4 criteria select events by the changed
// resource's own search values.
func TestFiltersAndCriteria(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	filtered := newReceiver(t, nil)
	criteria := newReceiver(t, nil)
	mustCreate(t, base, "Subscription", topicSubscription(base, "Observation-create", filtered.url(), "id-only", "filter:Observation?patient=Patient/A"))
	mustCreate(t, base, "Subscription", `{"resourceType":"Subscription","status":"requested","reason":"r4","criteria":"Observation?code=http://loinc.org|1234-5",
		"channel":{"type":"rest-hook","endpoint":"`+criteria.url()+`","payload":"application/fhir+json"}}`)
	waitFor(t, 10*time.Second, "handshakes", func() bool { return len(filtered.accepted(t)) >= 1 && len(criteria.accepted(t)) >= 1 })
	aMatch := mustCreate(t, base, "Observation", observation("1234-5", "A"))
	mustCreate(t, base, "Observation", observation("1234-5", "B"))
	aOther := mustCreate(t, base, "Observation", observation("9999-9", "A"))
	waitFor(t, 10*time.Second, "events", func() bool {
		return len(eventNumbers(filtered.accepted(t))) >= 2 && len(eventNumbers(criteria.accepted(t))) >= 2
	})
	time.Sleep(200 * time.Millisecond) // room for a wrong extra event to show
	foci := func(rc *receiver) []string {
		var out []string
		for _, n := range rc.accepted(t) {
			out = append(out, n.Foci...)
		}
		return out
	}
	if got := foci(filtered); !slices.Equal(got, []string{base + "/Observation/" + aMatch, base + "/Observation/" + aOther}) {
		t.Errorf("patient filter got %v", got)
	}
	// R4 criteria: the two with the code, created or updated.
	cfoci := foci(criteria)
	if len(cfoci) != 2 || strings.HasSuffix(cfoci[0], aOther) || strings.HasSuffix(cfoci[1], aOther) {
		t.Errorf("criteria got %v", cfoci)
	}
	for _, n := range criteria.accepted(t)[1:] {
		for _, e := range n.Entries {
			if n.Topic != "" || e == nil {
				t.Errorf("an R4 criteria subscription with a payload gets the full resource and no topic: topic %q, entry %s", n.Topic, e)
			}
		}
	}
}

// Heartbeats come every backport-heartbeat-period while nothing happens,
// with the event count so far.
func TestHeartbeat(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	rc := newReceiver(t, nil)
	mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only", heartbeat(1)))
	waitFor(t, 10*time.Second, "handshake", func() bool { return len(rc.accepted(t)) >= 1 })
	mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 10*time.Second, "two heartbeats", func() bool {
		hb := 0
		for _, n := range rc.accepted(t) {
			if n.Type == "heartbeat" {
				hb++
			}
		}
		return hb >= 2
	})
	var beats []time.Time
	for i, n := range rc.accepted(t) {
		if n.Type != "heartbeat" {
			continue
		}
		if n.Since != 1 || n.Status != "active" || len(n.Events) != 0 {
			t.Errorf("heartbeat %+v", n)
		}
		beats = append(beats, rc.all()[i].at)
	}
	if gap := beats[1].Sub(beats[0]); gap < 900*time.Millisecond || gap > 3*time.Second {
		t.Errorf("heartbeats %s apart, want about 1s", gap)
	}
}

// statusHistory lists a Subscription's versions oldest first as
// "status" or "status: error".
func statusHistory(t *testing.T, base, id string) []string {
	t.Helper()
	_, h := fhirCall(t, http.MethodGet, base+"/Subscription/"+id+"/_history?_count=100", nil)
	var out []string
	for _, e := range h["entry"].([]any) {
		r := e.(map[string]any)["resource"].(map[string]any)
		s := r["status"].(string)
		if msg, ok := r["error"].(string); ok {
			s += ": " + msg
		}
		out = append([]string{s}, out...)
	}
	return out
}

// A receiver that fails its first 5 calls: the server retries with
// back-off, the subscription goes to error (with the failure as its
// error text) once the failures outlast the window, and back to active at
// the first success; every event arrives, in order.
func TestReceiverFailsFirstFiveCalls(t *testing.T) {
	base := startServer(t, fastTiming(50*time.Millisecond))
	gate := make(chan struct{}) // holds the 6th call until the failing state is checked
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		if n <= 5 {
			return http.StatusInternalServerError
		}
		if n == 6 {
			select {
			case <-gate:
			case <-time.After(10 * time.Second):
			}
		}
		return http.StatusOK
	})
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only"))
	for range 3 {
		mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	}
	// While failing: status error, saying why, and $status says so too.
	waitFor(t, 10*time.Second, "status error", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "error" })
	_, msg := subscriptionStatus(t, base, id)
	if !strings.Contains(msg, "answered 500 Internal Server Error") || !strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "/hook?") {
		t.Errorf("error text %q", msg)
	}
	waitFor(t, 10*time.Second, "the 6th call", func() bool { return len(rc.all()) >= 6 })
	_, st := fhirCall(t, http.MethodGet, base+"/Subscription/"+id+"/$status", nil)
	if s := mustJSON(st); !strings.Contains(s, `"valueCode":"error"`) || !strings.Contains(s, "answered 500") || !strings.Contains(s, "5 attempts") {
		t.Errorf("$status while failing: %s", s)
	}
	close(gate)
	waitFor(t, 20*time.Second, "all 3 events", func() bool { return len(eventNumbers(rc.accepted(t))) >= 3 })
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 10*time.Second, "event 4", func() bool { return len(eventNumbers(rc.accepted(t))) >= 4 })
	if got := eventNumbers(rc.accepted(t)); !slices.Equal(got, []int64{1, 2, 3, 4}) {
		t.Errorf("events %v, want 1 2 3 4", got)
	}
	if calls := len(rc.all()); calls < 6 {
		t.Errorf("%d calls, want the 5 failures and more", calls)
	}
	// The attempts were spread out by back-off, not hammered.
	all := rc.all()
	if gap := all[4].at.Sub(all[0].at); gap < 60*time.Millisecond {
		t.Errorf("5 attempts within %s: no back-off", gap)
	}
	h := statusHistory(t, base, id)
	if len(h) < 3 || h[0] != "requested" || !strings.HasPrefix(h[1], "error: ") || h[len(h)-1] != "active" {
		t.Errorf("status history %q, want requested, error: ..., active", h)
	}
}

// A receiver that is down for a while: events queue, the status says
// error (connection refused) while it lasts, and when the receiver comes
// back every event arrives in order and the status is active again.
func TestReceiverDownForAWhile(t *testing.T) {
	base := startServer(t, fastTiming(100*time.Millisecond))
	rc := newReceiver(t, nil)
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only", maxCountExt(2)))
	waitFor(t, 10*time.Second, "active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	rc.down()
	var pids []string
	for range 5 {
		pids = append(pids, mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`))
	}
	waitFor(t, 10*time.Second, "status error", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "error" })
	if _, msg := subscriptionStatus(t, base, id); !strings.Contains(msg, "cannot reach") {
		t.Errorf("error text %q", msg)
	}
	time.Sleep(time.Second) // down a while longer, retrying
	rc.up(t)
	waitFor(t, 20*time.Second, "5 events", func() bool { return len(eventNumbers(rc.accepted(t))) >= 5 })
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	ns := rc.accepted(t)
	if got := eventNumbers(ns); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("events %v, want 1..5", got)
	}
	var foci []string
	for _, n := range ns {
		if len(n.Events) > 2 {
			t.Errorf("a notification carries %d events, above max-count 2", len(n.Events))
		}
		foci = append(foci, n.Foci...)
	}
	for i, pid := range pids {
		if i >= len(foci) || foci[i] != base+"/Patient/"+pid {
			t.Errorf("focus %d: %v, want Patient/%s", i, foci, pid)
			break
		}
	}
}

// The case as it is: a receiver down for 30 seconds, with the
// production back-off shape (retries from 1 s, doubling with jitter up to
// 8 s) and error after 5 s of failures. Events written throughout the
// outage all arrive, in order, once it is back, and the status is error
// during it and active after. It runs beside the other tests.
func TestReceiverDownThirtySeconds(t *testing.T) {
	t.Parallel()
	base := startServer(t, subscription.Timing{
		RetryMin: time.Second, RetryMax: 8 * time.Second, ErrorAfter: 5 * time.Second,
		Timeout: 5 * time.Second, MaxTimeout: 10 * time.Second, Poll: 200 * time.Millisecond,
	})
	rc := newReceiver(t, nil)
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only"))
	waitFor(t, 10*time.Second, "active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	rc.down()
	downAt := time.Now()
	var pids []string
	sawError := false
	for time.Since(downAt) < 30*time.Second {
		pids = append(pids, mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`))
		time.Sleep(3 * time.Second)
		if s, msg := subscriptionStatus(t, base, id); s == "error" && strings.Contains(msg, "cannot reach") {
			sawError = true
		}
	}
	if !sawError {
		t.Error("the status never said error (cannot reach) during the 30 s outage")
	}
	rc.up(t)
	waitFor(t, 30*time.Second, "every event", func() bool { return len(eventNumbers(rc.accepted(t))) >= len(pids) })
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	ns := rc.accepted(t)
	want := make([]int64, len(pids))
	for i := range want {
		want[i] = int64(i + 1)
	}
	if got := eventNumbers(ns); !slices.Equal(got, want) {
		t.Errorf("events %v, want 1..%d in order", got, len(pids))
	}
	var foci []string
	for _, n := range ns {
		foci = append(foci, n.Foci...)
	}
	for i, pid := range pids {
		if i >= len(foci) || foci[i] != base+"/Patient/"+pid {
			t.Errorf("focus %d of %v, want Patient/%s", i, foci, pid)
			break
		}
	}
}

// A receiver that hangs past backport-timeout: the attempt is abandoned
// at the timeout and retried; every event arrives, in order.
func TestReceiverHangsPastTimeout(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var hung atomic.Int64
	checked := make(chan struct{}) // holds the retry until $status is read
	rc := newReceiver(t, func(n int, r *http.Request) int {
		switch n {
		case 2: // the first event notification
			hung.Store(time.Now().UnixNano())
			select {
			case <-release:
			case <-time.After(4 * time.Second):
			}
		case 3:
			select {
			case <-checked:
			case <-time.After(10 * time.Second):
			}
		}
		return http.StatusOK
	})
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only", timeoutExt(1)))
	waitFor(t, 10*time.Second, "handshake", func() bool { return len(rc.all()) >= 1 })
	mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 10*time.Second, "the hanging call", func() bool { return hung.Load() != 0 })
	waitFor(t, 10*time.Second, "the retry", func() bool { return len(rc.all()) >= 3 })
	all := rc.all()
	if gap := all[2].at.Sub(time.Unix(0, hung.Load())); gap < 900*time.Millisecond {
		t.Errorf("retried %s after the hang began, before the 1s timeout", gap)
	}
	// While the retry is in flight, $status reports the timeout; the
	// status stays active (one failure is within the window).
	_, st := fhirCall(t, http.MethodGet, base+"/Subscription/"+id+"/$status", nil)
	if s := mustJSON(st); !strings.Contains(s, "did not answer within 1s") || !strings.Contains(s, `"valueCode":"active"`) {
		t.Errorf("$status during the retry: %s", s)
	}
	close(checked)
	mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 10*time.Second, "2 events", func() bool { return len(dedupe(eventNumbers(rc.accepted(t)))) >= 2 })
	if got := dedupe(eventNumbers(rc.accepted(t))); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("events %v, want 1 2", got)
	}
}

// dedupe drops repeated event numbers (at-least-once: a receiver that
// answered late may get an event again), keeping the first order.
func dedupe(ns []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, n := range ns {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
