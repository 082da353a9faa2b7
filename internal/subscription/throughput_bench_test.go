package subscription_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/subscription"
)

// BenchmarkDeliveryThroughput measures how fast queued notifications
// reach a local receiver: b.N Patients are committed while the receiver
// holds the first notification of each subscription, so every event is
// queued; then it lets go, and the clock runs until all have arrived.
// Each notification carries one event (backport-max-count 1), so
// notifications/s is also events/s. Target: at least 1,000/s.
func BenchmarkDeliveryThroughput(b *testing.B) {
	for _, subs := range []int{1, 10} {
		b.Run(fmt.Sprintf("subscriptions=%d", subs), func(b *testing.B) { benchDelivery(b, subs) })
	}
}

func benchDelivery(b *testing.B, subs int) {
	base := servertest.Start(b, server.Config{Auth: "off", NoAudit: true, SubscriptionsAllow: "127.0.0.1:*",
		SubscriptionTiming: subscription.Timing{Timeout: time.Minute, MaxTimeout: time.Minute, Poll: 20 * time.Millisecond}})
	gate := make(chan struct{})
	var events, handshakes atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"valueCode":"handshake"`)) {
			handshakes.Add(1)
			return
		}
		<-gate
		events.Add(int64(bytes.Count(body, []byte(`"name":"event-number"`))))
	}))
	defer rc.Close()
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	var ids []string
	for range subs {
		ids = append(ids, createSub(b, base, topicSubscription(base, "Patient-create", rc.URL+"/hook", "id-only", maxCountExt(1))))
	}
	waitB(b, 20*time.Second, func() bool { return handshakes.Load() == int64(subs) })

	b.StopTimer()
	for done := 0; done < b.N; {
		n := min(500, b.N-done)
		var sb strings.Builder
		sb.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(`{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}`)
		}
		sb.WriteString(`]}`)
		resp, err := http.Post(base, "application/fhir+json", strings.NewReader(sb.String()))
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("transaction: %v %v", err, resp)
		}
		resp.Body.Close()
		done += n
	}
	// Every event queued for every subscription before the clock starts.
	want := fmt.Sprintf(`"events-since-subscription-start","valueString":"%d"`, b.N)
	for _, id := range ids {
		waitB(b, 60*time.Second, func() bool {
			resp, err := http.Get(base + "/Subscription/" + id + "/$status")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return bytes.Contains(body, []byte(want))
		})
	}
	b.StartTimer()
	start := time.Now()
	close(gate)
	waitB(b, 5*time.Minute, func() bool { return events.Load() >= int64(subs*b.N) })
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(subs*b.N)/elapsed.Seconds(), "notifications/s")
}

func createSub(b *testing.B, base, body string) string {
	resp, err := http.Post(base+"/Subscription", "application/fhir+json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("create subscription: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var s struct{ ID string }
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &s); err != nil {
		b.Fatal(err)
	}
	return s.ID
}

func waitB(b *testing.B, timeout time.Duration, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
