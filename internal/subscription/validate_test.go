package subscription_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Subscriptions are vetted when written: each refusal is a 422 whose
// OperationOutcome names the element (FHIRPath) and the problem.
func TestSubscriptionValidation(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	hook := "http://127.0.0.1:9/hook"
	r4 := func(criteria, channel string) string {
		return `{"resourceType":"Subscription","status":"requested","reason":"t","criteria":` + quote(criteria) + `,"channel":` + channel + `}`
	}
	restHook := `{"type":"rest-hook","endpoint":"` + hook + `","payload":"application/fhir+json"}`
	topic := func(name string, extra ...string) string {
		return topicSubscription(base, name, hook, "id-only", extra...)
	}
	edit := func(body string, f func(map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	channel := func(f func(map[string]any)) func(map[string]any) {
		return func(m map[string]any) { f(m["channel"].(map[string]any)) }
	}
	tests := []struct {
		name, body string
		at, says   string
	}{
		{"unknown parameter", r4("Observation?colour=red", restHook), "Subscription.criteria", "colour"},
		{"unknown type", r4("Elephant?name=x", restHook), "Subscription.criteria", `"Elephant" is not a resource type`},
		{"chain", r4("Observation?subject:Patient.name=x", restHook), "Subscription.criteria", "chain"},
		{"_has", r4("Patient?_has:Observation:patient:code=x", restHook), "Subscription.criteria", "chain"},
		{"result parameter", r4("Observation?code=x&_include=Observation:subject", restHook), "Subscription.criteria", "_include"},
		{"terminology modifier", r4("Observation?code:in=http://vs", restHook), "Subscription.criteria", ":in is not supported"},
		{"subscriptions on Subscription", r4("Subscription?status=active", restHook), "Subscription.criteria", "cannot be subscribed to"},
		{"bad value", r4("Observation?date=yesterday", restHook), "Subscription.criteria", "date"},
		{"unknown topic", topic("no-such-topic"), "Subscription.criteria", "not served here"},
		{"filter parameter the topic lacks", topic("referral-submitted", "filter:ServiceRequest?authored=2024"), "Subscription.criteria.extension[0].value", `does not filter on "authored"`},
		{"filter on another type", topic("Patient-create", "filter:Observation?code=x"), "Subscription.criteria.extension[0].value", "topic is about Patient"},
		{"filter with unknown parameter", topic("Patient-create", "filter:Patient?colour=red"), "Subscription.criteria.extension[0].value", "colour"},
		{"email", r4("Observation?code=x", `{"type":"email","endpoint":"mailto:a@b.c"}`), "Subscription.channel.type", "not supported"},
		{"sms", r4("Observation?code=x", `{"type":"sms","endpoint":"tel:123"}`), "Subscription.channel.type", "not supported"},
		{"message", r4("Observation?code=x", `{"type":"message","endpoint":"https://x.example"}`), "Subscription.channel.type", "not supported"},
		{"xml payload", r4("Observation?code=x", `{"type":"rest-hook","endpoint":"`+hook+`","payload":"application/fhir+xml"}`), "Subscription.channel.payload", "application/fhir+xml"},
		{"payload content", edit(topic("Patient-create"), channel(func(c map[string]any) {
			c["_payload"] = map[string]any{"extension": []any{map[string]any{"url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content", "valueCode": "everything"}}}
		})), "Subscription.channel.payload.extension[0].value", "everything"},
		{"plain http to a public host", r4("Observation?code=x", `{"type":"rest-hook","endpoint":"http://hooks.example.org/x"}`), "Subscription.channel.endpoint", "https"},
		{"cloud metadata address", r4("Observation?code=x", `{"type":"rest-hook","endpoint":"https://169.254.169.254/latest"}`), "Subscription.channel.endpoint", "link-local"},
		{"server-set header", edit(topic("Patient-create"), channel(func(c map[string]any) { c["header"] = []string{"Host: evil.example"} })), "Subscription.channel.header[0]", "Host"},
		{"header without colon", edit(topic("Patient-create"), channel(func(c map[string]any) { c["header"] = []string{"Authorization Bearer x"} })), "Subscription.channel.header[0]", "Name: value"},
		{"timeout zero", topic("Patient-create", timeoutExt(0)), "Subscription.channel.extension[0].value", "backport-timeout"},
		{"status active", edit(topic("Patient-create"), func(m map[string]any) { m["status"] = "active" }), "Subscription.status", "server moves it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := fhirCall(t, http.MethodPost, base+"/Subscription", tt.body)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %v, want 422", status, out)
			}
			found := false
			for _, is := range out["issue"].([]any) {
				is := is.(map[string]any)
				exprs, _ := is["expression"].([]any)
				if len(exprs) > 0 && exprs[0] == tt.at && strings.Contains(is["diagnostics"].(string), tt.says) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no issue at %s saying %q: %v", tt.at, tt.says, out)
			}
		})
	}

	// Accepted: R4 criteria, a topic with the IG example's filter form,
	// a websocket channel (no endpoint needed).
	for _, body := range []string{
		r4("Observation?code=http://loinc.org|1234-5&subject=Patient/1", restHook),
		topic("advice-issued", "filter:DiagnosticReport.patient=Patient/123", heartbeat(60), timeoutExt(5), maxCountExt(10)),
		r4("Observation?code=x", `{"type":"websocket"}`),
	} {
		if status, out := fhirCall(t, http.MethodPost, base+"/Subscription", body); status != http.StatusCreated || out["status"] != "requested" {
			t.Errorf("POST %s: %d %v", body, status, out)
		}
	}

	// A transaction entry is vetted too, and the issue names the entry.
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + r4("Observation?colour=red", restHook) + `,"request":{"method":"POST","url":"Subscription"}}]}`
	status, out := fhirCall(t, http.MethodPost, base, tx)
	if status != http.StatusUnprocessableEntity || !strings.Contains(mustJSON(out), "Bundle.entry[0].resource.criteria") {
		t.Errorf("transaction: %d %v", status, out)
	}
}

// A client sets requested or off; active and error are the server's. A
// client may write back the status the server set.
func TestSubscriptionStatusRules(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	rc := newReceiver(t, nil)
	id := mustCreate(t, base, "Subscription", topicSubscription(base, "Patient-create", rc.url(), "id-only"))
	waitFor(t, 10*time.Second, "status active", func() bool { s, _ := subscriptionStatus(t, base, id); return s == "active" })
	_, cur := fhirCall(t, http.MethodGet, base+"/Subscription/"+id, nil)
	cur["reason"] = "edited"
	if status, out := fhirCall(t, http.MethodPut, base+"/Subscription/"+id, cur); status != http.StatusOK {
		t.Fatalf("writing back active: %d %v", status, out)
	}
	cur["status"] = "error"
	if status, _ := fhirCall(t, http.MethodPut, base+"/Subscription/"+id, cur); status != http.StatusUnprocessableEntity {
		t.Fatalf("client set error: %d, want 422", status)
	}
	cur["status"] = "off"
	if status, out := fhirCall(t, http.MethodPut, base+"/Subscription/"+id, cur); status != http.StatusOK {
		t.Fatalf("turning off: %d %v", status, out)
	}
	// Off: nothing more is delivered.
	before := len(rc.all())
	mustCreate(t, base, "Patient", `{"resourceType":"Patient"}`)
	time.Sleep(300 * time.Millisecond)
	if after := len(rc.all()); after != before {
		t.Fatalf("an off subscription got %d more deliveries", after-before)
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
