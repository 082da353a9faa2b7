package subscription_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func wsSubscription(base, criteria string, topic bool) string {
	if !topic {
		return `{"resourceType":"Subscription","status":"requested","reason":"ws","criteria":"` + criteria + `","channel":{"type":"websocket"}}`
	}
	return `{"resourceType":"Subscription","meta":{"profile":["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"]},
		"status":"requested","reason":"ws","criteria":"` + base + `/SubscriptionTopic/` + criteria + `",
		"channel":{"type":"websocket","payload":"application/fhir+json","_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]}}}`
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read from the websocket: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("message type %v, want text", typ)
	}
	return string(b)
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(t.Context(), url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// The backport flow end to end: $get-ws-binding-token, connect to the URL
// it names, bind with the token, get the handshake, then the events that
// were queued before binding and those after, as notification Bundles.
func TestWebSocketBindWithToken(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	id := mustCreate(t, base, "Subscription", wsSubscription(base, "Patient-create", true))
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	early := mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`) // queued until a socket binds

	status, out := fhirCall(t, http.MethodPost, base+"/Subscription/"+id+"/$get-ws-binding-token", nil)
	if status != http.StatusOK {
		t.Fatalf("$get-ws-binding-token: %d %v", status, out)
	}
	args := map[string]string{}
	for _, p := range out["parameter"].([]any) {
		p := p.(map[string]any)
		for k, v := range p {
			if strings.HasPrefix(k, "value") {
				args[p["name"].(string)] = v.(string)
			}
		}
	}
	if args["token"] == "" || args["subscription"] != id || args["expiration"] == "" || args["websocket-url"] != "ws"+strings.TrimPrefix(base, "http")+"/ws" {
		t.Fatalf("token parameters %v", args)
	}
	c := dial(t, args["websocket-url"])
	if err := c.Write(t.Context(), websocket.MessageText, []byte("bind-with-token: "+args["token"])); err != nil {
		t.Fatal(err)
	}
	hs := decodeNotification(t, []byte(readText(t, c)))
	if hs.Type != "handshake" || hs.Status != "active" {
		t.Fatalf("first message %+v, want the handshake", hs)
	}
	first := decodeNotification(t, []byte(readText(t, c)))
	if first.Type != "event-notification" || len(first.Events) != 1 || first.Events[0] != 1 || first.Foci[0] != base+"/Patient/"+early {
		t.Fatalf("queued event %+v", first)
	}
	later := mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	second := decodeNotification(t, []byte(readText(t, c)))
	if len(second.Events) != 1 || second.Events[0] != 2 || second.Foci[0] != base+"/Patient/"+later {
		t.Fatalf("second event %+v", second)
	}
	// A token binds once.
	c2 := dial(t, args["websocket-url"])
	c2.Write(t.Context(), websocket.MessageText, []byte("bind-with-token: "+args["token"]))
	if msg := readText(t, c2); !strings.HasPrefix(msg, "error: ") || !strings.Contains(msg, "already used") {
		t.Errorf("reused token: %q", msg)
	}
}

// The R4 flow end to end: "bind ID", "bound ID", then "ping ID" for each
// event; binding an unknown or non-websocket subscription is refused.
func TestWebSocketR4Bind(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	id := mustCreate(t, base, "Subscription", wsSubscription(base, "Patient?active=true", false))
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	c := dial(t, wsURL)
	if err := c.Write(t.Context(), websocket.MessageText, []byte("bind "+id)); err != nil {
		t.Fatal(err)
	}
	if msg := readText(t, c); msg != "bound "+id {
		t.Fatalf("bind answer %q", msg)
	}
	mustCreate(t, base, "Patient", `{"resourceType":"Patient","active":false}`) // no match
	mustCreate(t, base, "Patient", `{"resourceType":"Patient","active":true}`)
	if msg := readText(t, c); msg != "ping "+id {
		t.Fatalf("event message %q, want ping", msg)
	}
	for _, bad := range []string{"bind no-such-subscription", "bind " + mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", "http://127.0.0.1:9/x", "empty"))} {
		time.Sleep(100 * time.Millisecond) // the rest-hook subscription is live by now
		c := dial(t, wsURL)
		c.Write(t.Context(), websocket.MessageText, []byte(bad))
		if msg := readText(t, c); !strings.HasPrefix(msg, "error: ") {
			t.Errorf("%q answered %q, want an error", bad, msg)
		}
	}
}
