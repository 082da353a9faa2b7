package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Events survive a restart, keep their ids, and later events follow
// them.
func TestTrailSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	tr := openTrailIn(t, dir, Options{})
	for i := range 5 {
		tr.Record(context.Background(), Event{Action: "read", Status: 200, Entities: []string{fmt.Sprintf("Patient/p%d", i)}})
	}
	flush(t, tr)
	firstID := idOf(t, tr, "entity=Patient/p0")
	tr.Record(context.Background(), Event{Action: "read", Status: 200, Entities: []string{"Patient/p9"}})
	if err := tr.Close(); err != nil { // Close writes what is queued: no Flush
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}

	tr = openTrailIn(t, dir, Options{})
	if got := idOf(t, tr, "entity=Patient/p0"); got != firstID {
		t.Fatalf("the event about Patient/p0 is %s after the restart, was %s", got, firstID)
	}
	resp := tr.ReadAuditEvent(context.Background(), firstID)
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"Patient/p0"`) {
		t.Fatalf("read after restart: %d %s", resp.Status, resp.Body)
	}
	if b := searchOK(t, tr, "entity=Patient/p9&_summary=count", true); total(b) != 1 {
		t.Errorf("the event queued at Close: %d, want 1", total(b))
	}
	tr.Record(context.Background(), Event{Action: "delete", Status: 204, Entities: []string{"Patient/p0"}})
	flush(t, tr)
	b := searchOK(t, tr, "entity=Patient/p0&_sort=date", true)
	var got []string
	for _, e := range b.Entry {
		var ev eventJSON
		if err := json.Unmarshal(e.Resource, &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.ID+" "+ev.Subtype[0].Code)
	}
	if len(got) != 2 || got[0] != firstID+" read" || !strings.HasSuffix(got[1], " delete") {
		t.Errorf("events about Patient/p0: %v, want the read %s then a delete", got, firstID)
	}
}

// Close writes every queued event even when the writer is lingering.
func TestCloseDrainsTheQueue(t *testing.T) {
	dir := t.TempDir()
	tr := openTrailIn(t, dir, Options{Linger: time.Hour, MaxBatch: 300})
	const n = 5000
	for range n {
		tr.Record(context.Background(), Event{Action: "read", Status: 200})
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	st := tr.Stats()
	if st.Queued != n || st.Written != n || st.Lost != 0 {
		t.Errorf("stats %+v, want %d queued and written", st, n)
	}
	tr.Record(context.Background(), Event{Action: "read", Status: 200}) // after Close: counted, not written, no panic
	if st := tr.Stats(); st.Late != 1 {
		t.Errorf("late events %d, want 1", st.Late)
	}

	tr = openTrailIn(t, dir, Options{})
	b := searchOK(t, tr, "_summary=count", true)
	if b.Total == nil || *b.Total != n {
		t.Errorf("after reopening: %v events, want %d", total(b), n)
	}
}

// When the writer cannot keep up, Record waits instead of dropping: the
// database is locked by another connection, so the writer is stuck on
// its first batch and the small queue fills.
func TestRecordWaitsWhenTheQueueIsFull(t *testing.T) {
	dir := t.TempDir()
	tr := openSQLiteTrailIn(t, dir, Options{QueueSize: 2, MaxBatch: 1})
	blocker, err := sql.Open("sqlite3", filepath.Join(dir, FileName)+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close()
	lock, err := blocker.Begin()
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for range n {
			tr.Record(context.Background(), Event{Action: "read", Status: 200})
		}
	}()
	deadline := time.Now().Add(3 * time.Second) // within the writer's busy timeout
	for tr.Stats().Waited == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Record never waited with the writer blocked and the queue full")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-recorded:
		t.Fatal("all events were queued while the writer was blocked")
	default:
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	<-recorded
	flush(t, tr)
	if st := tr.Stats(); st.Written != n || st.Waited == 0 {
		t.Errorf("stats %+v: want %d written and some waits", st, n)
	}
}

// The SQLite database refuses to rewrite the trail, whoever asks.
func TestTrailIsAppendOnly(t *testing.T) {
	dir := t.TempDir()
	tr := openSQLiteTrailIn(t, dir, Options{})
	tr.Record(context.Background(), Event{Action: "read", Status: 200, Entities: []string{"Patient/p1"}})
	if err := tr.Close(); err != nil { // folds the event into ix
		t.Fatal(err)
	}
	tr = openSQLiteTrailIn(t, dir, Options{})
	db, err := sql.Open("sqlite3", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		"UPDATE event SET status = 500",
		"DELETE FROM event",
		"UPDATE ix SET key = 'e Patient/p2'",
		"DELETE FROM ix",
	} {
		if _, err := db.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", stmt, err)
		}
	}
}

// Many goroutines record while others search and read; every event is
// written once and found (run with -race).
func TestConcurrentRecordAndSearch(t *testing.T) {
	tr := openTrail(t, Options{QueueSize: 64, MaxBatch: 50})
	const writers, each = 8, 300
	ctx := context.Background()
	tr.Record(ctx, Event{Action: "read", Status: 200, ClientID: "first"})
	flush(t, tr)
	first := idOf(t, tr, "")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				tr.Record(ctx, Event{Action: "read", Status: 200, ClientID: fmt.Sprintf("client-%d", w),
					Entities: []string{fmt.Sprintf("Patient/w%d-%d", w, i)}})
			}
		}()
	}
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp := tr.SearchAuditEvents(ctx, url.Values{"_count": {"20"}, "outcome": {"0"}}, true)
				if resp.Status != http.StatusOK {
					errs <- fmt.Errorf("search: %d %s", resp.Status, resp.Body)
					return
				}
				if r := tr.ReadAuditEvent(ctx, first); r.Status != http.StatusOK {
					errs <- fmt.Errorf("read: %d %s", r.Status, r.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	flush(t, tr)
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range writers {
		b := searchOK(t, tr, fmt.Sprintf("agent:identifier=client-%d&_summary=count", w), true)
		if b.Total == nil || *b.Total != each {
			t.Errorf("client-%d: %v events, want %d", w, total(b), each)
		}
	}
	b := searchOK(t, tr, fmt.Sprintf("entity=Patient/w3-%d", each-1), true)
	if len(b.Entry) != 1 {
		t.Errorf("the last event of writer 3: %d matches, want 1", len(b.Entry))
	}
	if st := tr.Stats(); st.Written != writers*each+1 || st.Queued != writers*each+1 {
		t.Errorf("stats %+v, want %d queued and written", st, writers*each+1)
	}
}

// The users and resources of events are searchable before the SQLite
// store folds them into ix, after, and across both. Each event is its own
// batch; the fifth reaches the fold threshold.
func TestEventsFoldIntoTheIndex(t *testing.T) {
	tr := openSQLiteTrailIn(t, t.TempDir(), Options{})
	st := tr.store.(*sqliteStore)
	st.foldEvery, st.foldNext = 5, 5
	const n = 7
	for i := range n {
		tr.Record(context.Background(), Event{Action: "read", Status: 200, Patient: "p1", FHIRUser: fmt.Sprintf("Practitioner/dr%d", i%2),
			Entities: []string{fmt.Sprintf("Observation/o%d", i%3)}})
		flush(t, tr)
	}
	var rows, watermark int
	if err := st.r.QueryRow("SELECT (SELECT count(*) FROM ix), "+folded).Scan(&rows, &watermark); err != nil {
		t.Fatal(err)
	}
	if watermark != 5 || rows != 3*5 {
		t.Fatalf("ix has %d rows up to event %d, want 15 (entity, patient, user) up to 5", rows, watermark)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"entity=Observation/o0", 3}, // events 1, 4 (folded) and 7
		{"entity=Observation/o1", 2},
		{"entity=o2", 2},
		{"entity=Patient/p1", n},
		{"patient=p1", n},
		{"agent=Practitioner/dr0", 4}, // events 1, 3, 5 (folded) and 7
		{"agent=dr1", 3},
		{"patient=p1&agent=Practitioner/dr0&entity=Observation/o0", 2}, // events 1 (folded) and 7
		{"agent=Practitioner/dr1&entity=Observation/o1", 1},            // event 2
	} {
		b := searchOK(t, tr, tc.query+"&_summary=count", true)
		if b.Total == nil || *b.Total != tc.want {
			t.Errorf("%s: %v events, want %d", tc.query, total(b), tc.want)
		}
	}
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// total is a searchset's total for messages: -1 when there is none.
func total(b bundleJSON) int {
	if b.Total == nil {
		return -1
	}
	return *b.Total
}
