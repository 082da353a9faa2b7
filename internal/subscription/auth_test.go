package subscription_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// smartServer runs Telederm with authorization on and returns a function
// that gets a backend token for a client registered with the scopes.
func smartServer(t *testing.T, clients map[string]string) (string, func(id string) string) {
	t.Helper()
	dir := t.TempDir()
	secrets := map[string]string{}
	for id, scopes := range clients {
		s, err := auth.AddClient(dir, auth.ClientSpec{ID: id, Type: auth.ConfidentialSymmetric, Scopes: []string{scopes}, Launch: []string{auth.LaunchBackend}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		secrets[id] = s
	}
	base := servertest.Start(t, server.Config{DataDir: dir, Auth: "smart", SubscriptionsAllow: "127.0.0.1:*", SubscriptionTiming: fastTiming(time.Minute)})
	token := func(id string) string {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {clients[id]}}
		r, _ := http.NewRequest(http.MethodPost, base+"/auth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(id, secrets[id])
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tok map[string]any
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &tok)
		if resp.StatusCode != 200 {
			t.Fatalf("token for %s: %d %s", id, resp.StatusCode, b)
		}
		return tok["access_token"].(string)
	}
	return base, token
}

func authCall(t *testing.T, method, url, body, token string) (int, map[string]any) {
	t.Helper()
	r, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/fhir+json")
	}
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// A subscription carries only what its owner may read: a lab-results
// client subscribed to every new Observation hears of laboratory ones
// alone, full resources included, and never learns of the others (no
// event, no id). Its websocket binds need its token.
func TestNotificationsStayWithinOwnerScopes(t *testing.T) {
	base, token := smartServer(t, map[string]string{
		"hospital": "system/*.cruds",
		"lab-only": "system/Subscription.cruds system/Observation.rs?category=laboratory",
	})
	hospital, lab := token("hospital"), token("lab-only")
	rc := newReceiver(t, nil)
	status, sub := authCall(t, http.MethodPost, base+"/Subscription", topicSubscription(base, "Observation-create", rc.url(), "full-resource"), lab)
	if status != http.StatusCreated {
		t.Fatalf("lab-only subscribes: %d %v", status, sub)
	}
	if strings.Contains(mustJSON(sub), "lab-only") || strings.Contains(mustJSON(sub), "category") {
		t.Errorf("the owner's grant shows in the resource: %v", sub)
	}
	waitFor(t, 10*time.Second, "handshake", func() bool { return len(rc.accepted(t)) >= 1 })
	obs := func(category string) string {
		return `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"` + category + `"}]}],"code":{"text":"x"}}`
	}
	var ids []string
	for _, c := range []string{"laboratory", "vital-signs", "laboratory"} {
		status, out := authCall(t, http.MethodPost, base+"/Observation", obs(c), hospital)
		if status != http.StatusCreated {
			t.Fatalf("hospital writes: %d %v", status, out)
		}
		ids = append(ids, out["id"].(string))
	}
	waitFor(t, 10*time.Second, "2 events", func() bool { return len(eventNumbers(rc.accepted(t))) >= 2 })
	time.Sleep(200 * time.Millisecond)
	got := rc.accepted(t)
	if nums := eventNumbers(got); !slices.Equal(nums, []int64{1, 2}) {
		t.Fatalf("events %v, want 1 2 (the vital-signs one is not an event for this owner)", nums)
	}
	for _, d := range rc.all() {
		if strings.Contains(string(d.body), ids[1]) {
			t.Fatalf("a delivery mentions the vital-signs Observation %s", ids[1])
		}
	}
	var entries []string
	for _, n := range got[1:] {
		for _, e := range n.Entries {
			entries = append(entries, string(e))
		}
	}
	for i, want := range []string{ids[0], ids[2]} {
		if i >= len(entries) || !strings.Contains(entries[i], want) || !strings.Contains(entries[i], "laboratory") {
			t.Errorf("entries %q, want the full laboratory Observations %s and %s", entries, ids[0], ids[2])
			break
		}
	}

	// The R4 websocket bind: refused without the owner's token, bound with it.
	status, wsSub := authCall(t, http.MethodPost, base+"/Subscription", wsSubscription(base, "Observation?category=laboratory", false), lab)
	if status != http.StatusCreated {
		t.Fatalf("websocket subscription: %d %v", status, wsSub)
	}
	wsID := wsSub["id"].(string)
	waitFor(t, 10*time.Second, "active", func() bool {
		_, s := authCall(t, http.MethodGet, base+"/Subscription/"+wsID, "", lab)
		return s["status"] == "active"
	})
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	anon := dial(t, wsURL)
	anon.Write(t.Context(), websocket.MessageText, []byte("bind "+wsID))
	if msg := readText(t, anon); !strings.Contains(msg, "bearer token") {
		t.Errorf("bind without a token: %q", msg)
	}
	c, _, err := websocket.Dial(t.Context(), wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + lab}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.Write(t.Context(), websocket.MessageText, []byte("bind "+wsID))
	if msg := readText(t, c); msg != "bound "+wsID {
		t.Errorf("bind with the owner's token: %q", msg)
	}
}
