package subscription_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// process is one server process of a deployment: its own listener and
// data directory, the deployment's public base URL and database.
type process struct {
	url string // where this process listens
}

func startProcess(t *testing.T, store, publicBase string) process {
	t.Helper()
	return process{url: servertest.Process(t, server.Config{BaseURL: publicBase, Store: store, Auth: "off", NoWorkflow: true,
		SubscriptionsAllow: "127.0.0.1:*", SubscriptionTiming: fastTiming(time.Minute)})}
}

// TestTwoProcessesOneDatabase: two server processes on one MongoDB
// database (an in-process FerretDB), as behind a load balancer: what one
// writes the other reads, searches and pages; a subscription made
// through one gets its handshake and each event exactly once, whichever
// process the matching write went through.
func TestTwoProcessesOneDatabase(t *testing.T) {
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB to run two processes on: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	const public = "http://fhir.example.test" // the load balancer's address
	a := startProcess(t, uri, public)
	b := startProcess(t, uri, public)
	local := func(p process, link string) string { return p.url + strings.TrimPrefix(link, public) }

	// Written through a, read, searched and paged through b.
	var ids []string
	for i := range 25 {
		ids = append(ids, mustCreate(t, a.url, "Patient", fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Twin","given":["n%d"]}]}`, i)))
	}
	if status, out := fhirCall(t, http.MethodGet, b.url+"/Patient/"+ids[7], nil); status != http.StatusOK || out["id"] != ids[7] {
		t.Fatalf("read through the other process: %d %v", status, out)
	}
	// A photo's content is in the database too, not in a's data directory.
	photo := []byte("a skin lesion, dermatoscope, 10x")
	bin := mustCreate(t, a.url, "Binary", `{"resourceType":"Binary","contentType":"image/jpeg","data":"`+base64.StdEncoding.EncodeToString(photo)+`"}`)
	resp, err := http.Get(b.url + "/Binary/" + bin) // the raw content, as its content type
	if err != nil {
		t.Fatal(err)
	}
	content, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(content, photo) {
		t.Fatalf("Binary read through the other process: %d %q, want %q", resp.StatusCode, content, photo)
	}
	seen := map[string]bool{}
	// The first page through a, the next ones (a's cursors) through b.
	next, pages := a.url+"/Patient?family=Twin&_count=10", 0
	for next != "" {
		status, out := fhirCall(t, http.MethodGet, next, nil)
		if status != http.StatusOK {
			t.Fatalf("search page %d through the other process: %d %v", pages+1, status, out)
		}
		pages++
		entries, _ := out["entry"].([]any)
		for _, e := range entries {
			seen[e.(map[string]any)["resource"].(map[string]any)["id"].(string)] = true
		}
		next = ""
		links, _ := out["link"].([]any)
		for _, l := range links {
			if l := l.(map[string]any); l["relation"] == "next" {
				next = local(b, l["url"].(string))
			}
		}
	}
	if len(seen) != 25 || pages != 3 {
		t.Fatalf("paging through the other process found %d patients in %d pages, want 25 in 3", len(seen), pages)
	}

	// A subscription made through b; patients created through either.
	rc := newReceiver(t, nil)
	sub := mustCreate(t, b.url, "Subscription", topicSubscription(public, "Patient-create", rc.url(), "id-only"))
	waitFor(t, 15*time.Second, "the handshake", func() bool { return len(rc.accepted(t)) >= 1 })
	p1 := mustCreate(t, b.url, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 15*time.Second, "event 1", func() bool { return len(eventNumbers(rc.accepted(t))) >= 1 })
	p2 := mustCreate(t, a.url, "Patient", `{"resourceType":"Patient"}`)
	waitFor(t, 15*time.Second, "event 2", func() bool { return len(eventNumbers(rc.accepted(t))) >= 2 })
	// Long enough for a second process's dispatcher and worker to have
	// sent anything twice (they poll every 50ms).
	time.Sleep(time.Second)
	got := rc.accepted(t)
	var handshakes int
	var foci []string
	for _, n := range got {
		if n.Type == "handshake" {
			handshakes++
		}
		foci = append(foci, n.Foci...)
	}
	nums := eventNumbers(got)
	if handshakes != 1 || len(nums) != 2 || nums[0] != 1 || nums[1] != 2 {
		t.Fatalf("subscription %s got %d handshakes and events %v; want one handshake and events 1, 2 once each", sub, handshakes, nums)
	}
	if want := []string{public + "/Patient/" + p1, public + "/Patient/" + p2}; strings.Join(foci, " ") != strings.Join(want, " ") {
		t.Errorf("foci %v, want %v", foci, want)
	}
	// Both processes report the same delivery state.
	for _, p := range []process{a, b} {
		_, out := fhirCall(t, http.MethodGet, p.url+"/Subscription/"+sub+"/$status", nil)
		if s, _ := json.Marshal(out); !strings.Contains(string(s), `"events-since-subscription-start","valueString":"2"`) {
			t.Errorf("$status through %s: %s", p.url, s)
		}
	}
}
