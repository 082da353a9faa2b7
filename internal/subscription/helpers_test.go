package subscription_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/subscription"
)

// fastTiming keeps retries and polls short, so recovery shows in
// seconds; ErrorAfter is set per test.
func fastTiming(errorAfter time.Duration) subscription.Timing {
	return subscription.Timing{
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, ErrorAfter: errorAfter,
		Timeout: 2 * time.Second, MaxTimeout: 5 * time.Second, Poll: 50 * time.Millisecond,
	}
}

// startServer runs Telederm (auth off) with the loopback receivers allowed.
func startServer(t *testing.T, timing subscription.Timing) string {
	t.Helper()
	return servertest.Start(t, server.Config{Auth: "off", NoWorkflow: true, SubscriptionsAllow: "127.0.0.1:*", SubscriptionTiming: timing})
}

// delivery is one request a receiver got.
type delivery struct {
	at     time.Time
	header http.Header
	body   []byte
	status int // what the receiver answered
}

// receiver is a rest-hook endpoint whose behaviour a test scripts with
// answer (nil: 200). It can go down (its port closed: connections are
// refused) and come back on the same address.
type receiver struct {
	addr    string
	mu      sync.Mutex
	srv     *http.Server
	got     []delivery
	answer  func(n int, r *http.Request) int // n counts requests from 1
	handler http.Handler
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.got) + 1
		rc.got = append(rc.got, delivery{at: time.Now(), header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, r)
		}
		rc.mu.Lock()
		rc.got[n-1].status = status
		rc.mu.Unlock()
		w.WriteHeader(status)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc.addr = ln.Addr().String()
	rc.serve(ln)
	t.Cleanup(rc.down)
	return rc
}

func (rc *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: rc.handler}
	rc.mu.Lock()
	rc.srv = srv
	rc.mu.Unlock()
	go srv.Serve(ln)
}

// down closes the receiver: its port refuses connections.
func (rc *receiver) down() {
	rc.mu.Lock()
	srv := rc.srv
	rc.srv = nil
	rc.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// up opens it again on the same address.
func (rc *receiver) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", rc.addr)
	if err != nil {
		t.Fatalf("reopen the receiver on %s: %v", rc.addr, err)
	}
	rc.serve(ln)
}

func (rc *receiver) url() string { return "http://" + rc.addr + "/hook" }

func (rc *receiver) all() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// accepted is what the receiver answered 2xx to, decoded.
func (rc *receiver) accepted(t *testing.T) []notification {
	t.Helper()
	var out []notification
	for _, d := range rc.all() {
		if d.status >= 200 && d.status < 300 {
			out = append(out, decodeNotification(t, d.body))
		}
	}
	return out
}

// notification is a notification Bundle as tests read it.
type notification struct {
	Type      string // handshake, heartbeat, event-notification ...
	Status    string
	Topic     string
	Since     int64
	Events    []int64
	Foci      []string
	Errors    []string
	Entries   []json.RawMessage // after the status entry
	Raw       []byte
	BundleTyp string
}

func decodeNotification(t *testing.T, b []byte) notification {
	t.Helper()
	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil || len(bundle.Entry) == 0 {
		t.Fatalf("not a notification Bundle: %v\n%s", err, b)
	}
	n := notification{Raw: b, BundleTyp: bundle.Type}
	for _, e := range bundle.Entry[1:] {
		n.Entries = append(n.Entries, e.Resource)
	}
	var params struct {
		Parameter []struct {
			Name                 string `json:"name"`
			ValueCode            string `json:"valueCode"`
			ValueString          string `json:"valueString"`
			ValueCanonical       string `json:"valueCanonical"`
			ValueCodeableConcept struct {
				Text string `json:"text"`
			} `json:"valueCodeableConcept"`
			Part []struct {
				Name           string `json:"name"`
				ValueString    string `json:"valueString"`
				ValueReference struct {
					Reference string `json:"reference"`
				} `json:"valueReference"`
			} `json:"part"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(bundle.Entry[0].Resource, &params); err != nil {
		t.Fatal(err)
	}
	for _, p := range params.Parameter {
		switch p.Name {
		case "type":
			n.Type = p.ValueCode
		case "status":
			n.Status = p.ValueCode
		case "topic":
			n.Topic = p.ValueCanonical
		case "events-since-subscription-start":
			n.Since, _ = strconv.ParseInt(p.ValueString, 10, 64)
		case "error":
			n.Errors = append(n.Errors, p.ValueCodeableConcept.Text)
		case "notification-event":
			for _, pt := range p.Part {
				switch pt.Name {
				case "event-number":
					num, _ := strconv.ParseInt(pt.ValueString, 10, 64)
					n.Events = append(n.Events, num)
				case "focus":
					n.Foci = append(n.Foci, pt.ValueReference.Reference)
				}
			}
		}
	}
	return n
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// eventNumbers are the event numbers the receiver accepted, in order of
// arrival.
func eventNumbers(ns []notification) []int64 {
	var out []int64
	for _, n := range ns {
		out = append(out, n.Events...)
	}
	return out
}

// fhirCall sends one request and decodes the JSON answer.
func fhirCall(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			raw, _ := json.Marshal(b)
			rd = bytes.NewReader(raw)
		}
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// mustCreate POSTs a resource and returns its id.
func mustCreate(t *testing.T, base, typ string, body string) string {
	t.Helper()
	status, out := fhirCall(t, http.MethodPost, base+"/"+typ, body)
	if status != http.StatusCreated {
		t.Fatalf("POST %s: %d %v", typ, status, out)
	}
	return out["id"].(string)
}

// subscriptionStatus reads Subscription.status and .error.
func subscriptionStatus(t *testing.T, base, id string) (string, string) {
	t.Helper()
	status, out := fhirCall(t, http.MethodGet, base+"/Subscription/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("GET Subscription/%s: %d %v", id, status, out)
	}
	s, _ := out["status"].(string)
	e, _ := out["error"].(string)
	return s, e
}

// topicSubscription is a backport Subscription to a topic; extra are
// "filter:..." criteria and channel extensions (heartbeat, timeoutExt,
// maxCountExt).
func topicSubscription(base, topic, endpoint, content string, extra ...string) string {
	sub := map[string]any{
		"resourceType": "Subscription",
		"meta":         map[string]any{"profile": []string{"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"}},
		"status":       "requested", "reason": "test", "criteria": base + "/SubscriptionTopic/" + topic,
	}
	channel := map[string]any{"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json",
		"_payload": map[string]any{"extension": []any{map[string]any{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content", "valueCode": content}}}}
	var filters, exts []any
	for _, e := range extra {
		if f, ok := strings.CutPrefix(e, "filter:"); ok {
			filters = append(filters, map[string]any{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria", "valueString": f})
			continue
		}
		var ext any
		if err := json.Unmarshal([]byte(e), &ext); err != nil {
			panic(err)
		}
		exts = append(exts, ext)
	}
	if len(filters) > 0 {
		sub["_criteria"] = map[string]any{"extension": filters}
	}
	if len(exts) > 0 {
		channel["extension"] = exts
	}
	sub["channel"] = channel
	b, _ := json.Marshal(sub)
	return string(b)
}

func heartbeat(seconds int) string {
	return fmt.Sprintf(`{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period","valueUnsignedInt":%d}`, seconds)
}

func timeoutExt(seconds int) string {
	return fmt.Sprintf(`{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-timeout","valueUnsignedInt":%d}`, seconds)
}

func maxCountExt(n int) string {
	return fmt.Sprintf(`{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-max-count","valuePositiveInt":%d}`, n)
}
