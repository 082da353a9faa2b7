package subscription_test

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/sharedspec"
)

// Notifications as delivered over HTTP have the shape of the backport
// IG's examples (../shared/spec/subscriptions): the same entries with the
// same members, and the same status parameters with the same value types
// and parts, in the same order.
func TestDeliveredBundlesMatchSamples(t *testing.T) {
	sample := func(name string) string {
		b, err := os.ReadFile(sharedspec.Path("subscriptions", name))
		if err != nil {
			t.Skipf("backport IG example not available (%v): this comparison needs ../shared/spec/subscriptions/%s beside the project", err, name)
		}
		return bundleShape(t, b)
	}
	base := startServer(t, fastTiming(time.Minute))
	got := map[string]*receiver{}
	for _, content := range []string{"empty", "id-only", "full-resource"} {
		got[content] = newReceiver(t, nil)
		extra := []string{}
		if content == "id-only" {
			extra = append(extra, heartbeat(1))
		}
		mustCreate(t, base, "Subscription", topicSubscription(base, "Encounter-create", got[content].url(), content, extra...))
	}
	for _, rc := range got {
		waitFor(t, 10*time.Second, "handshakes", func() bool { return len(rc.accepted(t)) >= 1 })
	}
	mustCreate(t, base, "Encounter", `{"resourceType":"Encounter","status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"}}`)
	find := func(rc *receiver, kind string) []byte {
		var out []byte
		waitFor(t, 10*time.Second, "a "+kind, func() bool {
			for _, n := range rc.accepted(t) {
				if n.Type == kind {
					out = n.Raw
					return true
				}
			}
			return false
		})
		return out
	}
	cases := []struct {
		sample string
		got    []byte
	}{
		{"handshake_bundle_example.json", find(got["id-only"], "handshake")},
		{"heartbeat_bundle_example.json", find(got["id-only"], "heartbeat")},
		{"empty_notification_bundle_example.json", find(got["empty"], "event-notification")},
		{"id_only_notification_bundle_example.json", find(got["id-only"], "event-notification")},
		{"full_resource_notification_bundle_example.json", find(got["full-resource"], "event-notification")},
	}
	for _, c := range cases {
		if want, have := sample(c.sample), bundleShape(t, c.got); have != want {
			t.Errorf("%s: delivered shape differs\n--- delivered\n%s--- sample\n%s", c.sample, have, want)
		}
	}
}

// bundleShape abstracts a notification Bundle to its structure.
func bundleShape(t *testing.T, b []byte) string {
	t.Helper()
	var bundle struct {
		Type string `json:"type"`
		Meta struct {
			Profile []string `json:"profile"`
		} `json:"meta"`
		Entry []map[string]json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Bundle %s %v\n", bundle.Type, bundle.Meta.Profile)
	for i, e := range bundle.Entry {
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var r struct {
			ResourceType string `json:"resourceType"`
			Meta         struct {
				Profile []string `json:"profile"`
			} `json:"meta"`
			Parameter []map[string]json.RawMessage `json:"parameter"`
		}
		_ = json.Unmarshal(e["resource"], &r)
		var req struct{ Method string }
		_ = json.Unmarshal(e["request"], &req)
		fmt.Fprintf(&sb, "entry %d %v %s %s\n", i, keys, r.ResourceType, req.Method)
		if r.ResourceType != "Parameters" {
			continue
		}
		fmt.Fprintf(&sb, "  profile %v\n", r.Meta.Profile)
		for _, p := range r.Parameter {
			fmt.Fprintf(&sb, "  %s", valueShape(p))
			var parts []map[string]json.RawMessage
			_ = json.Unmarshal(p["part"], &parts)
			for _, pt := range parts {
				fmt.Fprintf(&sb, " [%s]", valueShape(pt))
			}
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func valueShape(p map[string]json.RawMessage) string {
	var name string
	_ = json.Unmarshal(p["name"], &name)
	for k := range p {
		if strings.HasPrefix(k, "value") {
			return name + ":" + k
		}
	}
	return name
}
