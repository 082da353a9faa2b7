package subscription_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// fixedBase is the public base URL of the restart tests' servers: the
// same across restarts, whatever port the listener gets (topic canonicals
// are built from it).
const fixedBase = "http://telederm.test"

// openAt runs Telederm on dir; stop closes it as a shutdown would.
func openAt(t *testing.T, dir string) (url string, stop func()) {
	t.Helper()
	app, err := server.Open(t.Context(), server.Config{DataDir: dir, BaseURL: fixedBase, Auth: "off",
		SubscriptionsAllow: "127.0.0.1:*", SubscriptionTiming: fastTiming(time.Minute),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.Handler())
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ts.Close()
			if err := app.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ts.URL, stop
}

// Events queued while the receiver is down survive a restart, and so do
// changes committed while no server ran at all: after the restart every
// one is delivered, in order, numbered without a gap.
func TestQueuedAndUndispatchedEventsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	rc := newReceiver(t, nil)
	url, stop := openAt(t, dir)
	id := mustCreate(t, url, "Subscription", topicSubscription(fixedBase, "Patient-create", rc.url(), "id-only"))
	waitFor(t, 10*time.Second, "active", func() bool { s, _ := subscriptionStatus(t, url, id); return s == "active" })
	rc.down()
	var pids []string
	for range 3 {
		pids = append(pids, mustCreate(t, url, "Patient", `{"resourceType":"Patient"}`))
	}
	waitFor(t, 10*time.Second, "3 events queued", func() bool {
		_, st := fhirCall(t, "GET", url+"/Subscription/"+id+"/$status", nil)
		return strings.Contains(mustJSON(st), `"valueString":"3"`)
	})
	stop()

	// No server: two Patients committed straight to the store, as a
	// crash right after their commits would leave them, undispatched.
	repo, err := sqlite.Open(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		pid := fmt.Sprintf("offline-%d", i)
		body := fmt.Sprintf(`{"resourceType":"Patient","id":%q,"meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00.000Z"}}`, pid)
		err := repo.Commit(t.Context(), []store.Change{{Type: "Patient", ID: pid, Version: 1, LastUpdated: time.Now(), Method: store.MethodCreate, Body: []byte(body)}})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if err := repo.Close(); err != nil {
		t.Fatal(err)
	}

	rc.up(t)
	url, _ = openAt(t, dir)
	waitFor(t, 10*time.Second, "5 events", func() bool { return len(dedupe(eventNumbers(rc.accepted(t)))) >= 5 })
	var foci []string
	for _, n := range rc.accepted(t) {
		foci = append(foci, n.Foci...)
	}
	if got := dedupe(eventNumbers(rc.accepted(t))); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("events %v, want 1..5", got)
	}
	for i, pid := range pids {
		if i >= len(foci) || foci[i] != fixedBase+"/Patient/"+pid {
			t.Fatalf("foci %v, want the patients %v in order", foci, pids)
		}
	}
	if s, _ := subscriptionStatus(t, url, id); s != "active" {
		t.Errorf("status %s after restart", s)
	}
}
