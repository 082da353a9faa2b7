package subscription_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/telederm/telederm/internal/store/mongo"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// wsToken gets a binding token for sub through the process at base.
func wsToken(t *testing.T, base, sub string) string {
	t.Helper()
	status, out := fhirCall(t, http.MethodPost, base+"/Subscription/"+sub+"/$get-ws-binding-token", nil)
	if status != http.StatusOK {
		t.Fatalf("$get-ws-binding-token through %s: %d %v", base, status, out)
	}
	for _, p := range out["parameter"].([]any) {
		if p := p.(map[string]any); p["name"] == "token" {
			return p["valueString"].(string)
		}
	}
	t.Fatalf("no token in %v", out)
	return ""
}

// bindAt opens a socket at the process at base and sends the bind.
func bindAt(t *testing.T, base, tok string) *websocket.Conn {
	t.Helper()
	c := dial(t, "ws"+strings.TrimPrefix(base, "http")+"/ws")
	if err := c.Write(t.Context(), websocket.MessageText, []byte("bind-with-token: "+tok)); err != nil {
		t.Fatal(err)
	}
	return c
}

// socketEvents reads notifications from c until event last has come,
// and fails unless they carry exactly the events after next-1 up to
// last, in order, once each, about the patients named (want[n] is event
// n's focus).
func socketEvents(t *testing.T, name string, c *websocket.Conn, next, last int64, want map[int64]string) {
	t.Helper()
	for next <= last {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		_, b, err := c.Read(ctx)
		cancel()
		if err != nil {
			t.Fatalf("%s: waiting for event %d: %v", name, next, err)
		}
		n := decodeNotification(t, b)
		if n.Type != "event-notification" || len(n.Events) == 0 || len(n.Events) != len(n.Foci) {
			t.Fatalf("%s: got %s with events %v, foci %v; want event %d", name, n.Type, n.Events, n.Foci, next)
		}
		for i, num := range n.Events {
			if num != next {
				t.Fatalf("%s: got event %d, want %d (events in order, each once)", name, num, next)
			}
			if n.Foci[i] != want[num] {
				t.Fatalf("%s: event %d is about %s, want %s", name, num, n.Foci[i], want[num])
			}
			next++
		}
	}
}

func handshakeOf(t *testing.T, name string, c *websocket.Conn, events string) {
	t.Helper()
	msg := readText(t, c)
	hs := decodeNotification(t, []byte(msg))
	if hs.Type != "handshake" || hs.Status != "active" || !strings.Contains(msg, `"events-since-subscription-start","valueString":"`+events+`"`) {
		t.Fatalf("%s: first message %s, want the handshake of an active subscription with %s events", name, msg, events)
	}
}

// TestTwoProcessesWebSocket: websocket notifications behind a load
// balancer. Two processes share one FerretDB database; one holds the
// delivery lease, the other stands by. A binding token minted by either
// binds a socket at the other, once; each socket gets the handshake, the
// event that found no socket anywhere (the first socket only), then
// every event of patients created through either process, in order, once.
func TestTwoProcessesWebSocket(t *testing.T) {
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB to run two processes on: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	const public = "http://fhir.example.test"
	a := startProcess(t, uri, public)
	b := startProcess(t, uri, public)

	sub := mustCreate(t, a.url, "Subscription", wsSubscription(public, "Patient-create", true))
	st, err := mongo.Open(t.Context(), uri, mongo.Options{AllowNonAtomic: true, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deliveredIs := func(n int64) func() bool {
		return func() bool { p, err := st.Progress(t.Context(), sub); return err == nil && p.Delivered == n }
	}
	waitFor(t, 15*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, b.url, sub); return s == "active" })
	focus := map[int64]string{}
	// No socket anywhere yet: the event waits for the first one.
	focus[1] = public + "/Patient/" + mustCreate(t, b.url, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 15*time.Second, "event 1 numbered", func() bool {
		_, out := fhirCall(t, http.MethodGet, a.url+"/Subscription/"+sub+"/$status", nil)
		s, _ := json.Marshal(out)
		return strings.Contains(string(s), `"events-since-subscription-start","valueString":"1"`)
	})

	// Minted through a, bound at b.
	tok := wsToken(t, a.url, sub)
	atB := bindAt(t, b.url, tok)
	handshakeOf(t, "socket at b", atB, "1")
	socketEvents(t, "socket at b", atB, 1, 1, focus)
	// The token is used up, at either process.
	for _, p := range []process{a, b} {
		c := bindAt(t, p.url, tok)
		if msg := readText(t, c); !strings.HasPrefix(msg, "error: ") || !strings.Contains(msg, "already used") {
			t.Errorf("token reused at %s: %q, want refused as already used", p.url, msg)
		}
	}

	// Minted through b, bound at a: both processes now have a socket. A
	// socket starts after the last event recorded delivered; b records
	// event 1 just after sending it, so bind once it has (binding sooner
	// may get event 1 again: delivery is at least once).
	waitFor(t, 15*time.Second, "event 1 recorded delivered by b", deliveredIs(1))
	atA := bindAt(t, a.url, wsToken(t, b.url, sub))
	handshakeOf(t, "socket at a", atA, "1")
	focus[2] = public + "/Patient/" + mustCreate(t, a.url, "Patient", `{"resourceType":"Patient"}`)
	focus[3] = public + "/Patient/" + mustCreate(t, b.url, "Patient", `{"resourceType":"Patient"}`)
	socketEvents(t, "socket at b", atB, 2, 3, focus)
	socketEvents(t, "socket at a", atA, 2, 3, focus)
	// Nothing was sent twice: the next message of each is event 4.
	focus[4] = public + "/Patient/" + mustCreate(t, a.url, "Patient", `{"resourceType":"Patient"}`)
	socketEvents(t, "socket at b", atB, 4, 4, focus)
	socketEvents(t, "socket at a", atA, 4, 4, focus)

	// The shared state agrees at both processes.
	for _, p := range []process{a, b} {
		_, out := fhirCall(t, http.MethodGet, p.url+"/Subscription/"+sub+"/$status", nil)
		if s, _ := json.Marshal(out); !strings.Contains(string(s), `"events-since-subscription-start","valueString":"4"`) || !strings.Contains(string(s), `"status","valueCode":"active"`) {
			t.Errorf("$status through %s: %s", p.url, s)
		}
	}

	// What each process delivered counts for the other (one of them
	// stands by): an event its socket took is not sent again to a socket
	// binding at the other process later; one that found no socket is.
	numbered := func(n string) func() bool {
		return func() bool {
			_, out := fhirCall(t, http.MethodGet, a.url+"/Subscription/"+sub+"/$status", nil)
			s, _ := json.Marshal(out)
			return strings.Contains(string(s), `"events-since-subscription-start","valueString":"`+n+`"`)
		}
	}
	waitFor(t, 15*time.Second, "events 1-4 recorded delivered", deliveredIs(4))
	atA.Close(websocket.StatusNormalClosure, "")
	focus[5] = public + "/Patient/" + mustCreate(t, a.url, "Patient", `{"resourceType":"Patient"}`)
	socketEvents(t, "socket at b", atB, 5, 5, focus)
	waitFor(t, 15*time.Second, "event 5 recorded delivered by b", deliveredIs(5))
	atB.Close(websocket.StatusNormalClosure, "")
	focus[6] = public + "/Patient/" + mustCreate(t, b.url, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 15*time.Second, "event 6 numbered", numbered("6"))
	againA := bindAt(t, a.url, wsToken(t, a.url, sub))
	handshakeOf(t, "new socket at a", againA, "6")
	socketEvents(t, "new socket at a", againA, 6, 6, focus)
	waitFor(t, 15*time.Second, "event 6 recorded delivered by a", deliveredIs(6))
	againA.Close(websocket.StatusNormalClosure, "")
	focus[7] = public + "/Patient/" + mustCreate(t, a.url, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 15*time.Second, "event 7 numbered", numbered("7"))
	againB := bindAt(t, b.url, wsToken(t, b.url, sub))
	handshakeOf(t, "new socket at b", againB, "7")
	socketEvents(t, "new socket at b", againB, 7, 7, focus)
}
