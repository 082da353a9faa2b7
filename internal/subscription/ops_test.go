package subscription_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// $events replays a range of events with the payload asked for; $status
// at type level lists subscriptions by id and status.
func TestEventsAndStatusOperations(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	rc := newReceiver(t, nil)
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only"))
	var pids []string
	for range 4 {
		pids = append(pids, mustCreate(t, base, "Patient", `{"resourceType":"Patient","active":true}`))
	}
	waitFor(t, 10*time.Second, "4 events", func() bool { return len(eventNumbers(rc.accepted(t))) >= 4 })

	status, out := fhirCall(t, http.MethodGet, base+"/Subscription/"+id+"/$events?eventsSinceNumber=2&eventsUntilNumber=3&content=full-resource", nil)
	if status != http.StatusOK {
		t.Fatalf("$events: %d %v", status, out)
	}
	n := decodeNotification(t, []byte(mustJSON(out)))
	if n.Type != "query-event" || n.BundleTyp != "history" || !slices.Equal(n.Events, []int64{2, 3}) || n.Since != 4 {
		t.Errorf("$events: %+v", n)
	}
	if len(n.Foci) != 2 || n.Foci[0] != base+"/Patient/"+pids[1] || len(n.Entries) != 2 || !strings.Contains(string(n.Entries[1]), pids[2]) {
		t.Errorf("$events foci %v entries %s", n.Foci, n.Entries)
	}
	// POSTed Parameters work too; the default range is every event.
	status, out = fhirCall(t, http.MethodPost, base+"/Subscription/"+id+"/$events", `{"resourceType":"Parameters","parameter":[{"name":"content","valueCode":"empty"}]}`)
	if n := decodeNotification(t, []byte(mustJSON(out))); status != 200 || !slices.Equal(n.Events, []int64{1, 2, 3, 4}) || len(n.Foci) != 0 {
		t.Errorf("$events POST: %d %+v", status, n)
	}
	for _, bad := range []string{"eventsSinceNumber=x", "content=all"} {
		if status, _ := fhirCall(t, http.MethodGet, base+"/Subscription/"+id+"/$events?"+bad, nil); status != http.StatusBadRequest {
			t.Errorf("$events?%s: %d, want 400", bad, status)
		}
	}
	if status, _ := fhirCall(t, http.MethodGet, base+"/Subscription/nope/$events", nil); status != http.StatusNotFound {
		t.Errorf("$events of an unknown subscription: %d", status)
	}
	if status, _ := fhirCall(t, http.MethodGet, base+"/Patient/"+pids[0]+"/$status", nil); status != http.StatusNotFound {
		t.Errorf("$status on Patient: %d, want 404", status)
	}

	off := mustCreate(t, base, "Subscription", strings.Replace(topicSubscription(base, "Patient-create", rc.url(), "empty"), `"status":"requested"`, `"status":"off"`, 1))
	status, out = fhirCall(t, http.MethodGet, base+"/Subscription/$status?id="+id+","+off, nil)
	if status != 200 || out["total"].(float64) != 2 {
		t.Fatalf("type-level $status by id: %d %v", status, out)
	}
	status, out = fhirCall(t, http.MethodGet, base+"/Subscription/$status?status=off", nil)
	if status != 200 || out["total"].(float64) != 1 || !strings.Contains(mustJSON(out), "Subscription/"+off) {
		t.Fatalf("type-level $status by status: %d %v", status, out)
	}
	status, out = fhirCall(t, http.MethodGet, base+"/Subscription/$status", nil)
	if status != 200 || out["total"].(float64) != 2 {
		t.Fatalf("type-level $status: %d %v", status, out)
	}
	// A binding token is for websocket subscriptions only.
	if status, out := fhirCall(t, http.MethodPost, base+"/Subscription/"+id+"/$get-ws-binding-token", nil); status != http.StatusUnprocessableEntity {
		t.Errorf("token for a rest-hook subscription: %d %v", status, out)
	}
	if status, _ := fhirCall(t, http.MethodPost, base+"/Subscription/$get-ws-binding-token", nil); status != http.StatusBadRequest {
		t.Errorf("token without ids: %d, want 400", status)
	}
}
