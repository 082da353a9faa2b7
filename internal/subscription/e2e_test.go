package subscription_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// A topic-based rest-hook subscription: the handshake makes it active,
// then each new Patient arrives as one event, numbered from 1.
func TestRestHookHandshakeAndEvents(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	rc := newReceiver(t, nil)
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only"))
	waitFor(t, 10*time.Second, "the handshake", func() bool { return len(rc.accepted(t)) >= 1 })
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	hs := rc.accepted(t)[0]
	if hs.Type != "handshake" || hs.Status != "requested" || hs.BundleTyp != "history" {
		t.Fatalf("first notification %+v, want a handshake of a requested subscription", hs)
	}
	var pids []string
	for range 3 {
		pids = append(pids, mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`))
	}
	waitFor(t, 10*time.Second, "3 events", func() bool { return len(eventNumbers(rc.accepted(t))) >= 3 })
	got := rc.accepted(t)
	if nums := eventNumbers(got); len(nums) != 3 || nums[0] != 1 || nums[2] != 3 {
		t.Fatalf("event numbers %v, want 1 2 3", nums)
	}
	var foci []string
	for _, n := range got[1:] {
		foci = append(foci, n.Foci...)
		if n.Type != "event-notification" || n.Status != "active" {
			t.Errorf("notification %+v", n)
		}
	}
	for i, f := range foci {
		if f != base+"/Patient/"+pids[i] {
			t.Errorf("focus %d = %s, want %s", i, f, base+"/Patient/"+pids[i])
		}
	}
	if ct := rc.all()[0].header.Get("Content-Type"); ct != "application/fhir+json" {
		t.Errorf("Content-Type %q", ct)
	}
	status, out := fhirCall(t, http.MethodGet, base+"/Subscription/"+id+"/$status", nil)
	s := mustJSON(out)
	if status != 200 || out["type"] != "searchset" || !strings.Contains(s, `"valueCode":"query-status"`) ||
		!strings.Contains(s, `"valueCode":"active"`) || !strings.Contains(s, `"events-since-subscription-start","valueString":"3"`) {
		t.Fatalf("$status: %d %s", status, s)
	}
}

// The CapabilityStatement advertises every topic (workflow topics first),
// the backport profile and the operations on Subscription.
func TestCapabilityStatementAdvertisesTopics(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	status, cs := fhirCall(t, http.MethodGet, base+"/metadata", nil)
	if status != http.StatusOK {
		t.Fatalf("metadata: %d", status)
	}
	var sub map[string]any
	for _, r := range cs["rest"].([]any)[0].(map[string]any)["resource"].([]any) {
		if r := r.(map[string]any); r["type"] == "Subscription" {
			sub = r
		}
	}
	var topics []string
	for _, e := range sub["extension"].([]any) {
		e := e.(map[string]any)
		if e["url"] == "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical" {
			topics = append(topics, e["valueCanonical"].(string))
		}
	}
	if len(topics) < 3 || topics[0] != base+"/SubscriptionTopic/referral-submitted" || !slices.Contains(topics, base+"/SubscriptionTopic/advice-issued") ||
		!slices.Contains(topics, base+"/SubscriptionTopic/Patient-delete") || slices.Contains(topics, base+"/SubscriptionTopic/Subscription-create") {
		t.Errorf("topics %d, first %v", len(topics), topics[:min(3, len(topics))])
	}
	b := mustJSON(sub)
	for _, want := range []string{"backport-subscription", `"name":"status"`, `"name":"events"`, `"name":"get-ws-binding-token"`, "backport-subscription-events"} {
		if !strings.Contains(b, want) {
			t.Errorf("Subscription entry lacks %s", want)
		}
	}
}
