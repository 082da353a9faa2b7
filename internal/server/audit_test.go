package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/audit"
)

// startAt serves a server over dir until stop is called.
func startAt(t *testing.T, dir string, cfg Config) (base string, stop func()) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base = "http://" + ts.Listener.Addr().String()
	cfg.DataDir, cfg.BaseURL = dir, base
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	return base, func() {
		ts.Close() // drains the HTTP server first, as serve does
		if err := app.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// The server audits into <data>/audit.db, Close writes the last events,
// and they are searchable after a restart.
func TestServerAuditTrailSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	base, stop := startAt(t, dir, Config{Auth: "off"})
	for range 3 {
		if status, body := get(t, base+"/Patient/nobody"); status != http.StatusNotFound {
			t.Fatalf("read: %d %s", status, body)
		}
	}
	stop() // no flush: Close must write the queued events
	if _, err := os.Stat(filepath.Join(dir, audit.FileName)); err != nil {
		t.Fatalf("no audit database in the data directory: %v", err)
	}

	base, stop = startAt(t, dir, Config{Auth: "off"})
	defer stop()
	status, body := get(t, base+"/AuditEvent?subtype=read&outcome=4&_total=accurate")
	if status != http.StatusOK {
		t.Fatalf("search: %d %s", status, body)
	}
	var b struct{ Total int }
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Total != 3 {
		t.Errorf("%d failed reads in the trail after the restart, want 3: %s", b.Total, body)
	}
}

// With NoAudit nothing is recorded and no audit database is created.
func TestServerWithoutAudit(t *testing.T) {
	dir := t.TempDir()
	base, stop := startAt(t, dir, Config{Auth: "off", NoAudit: true})
	if status, body := get(t, base+"/metadata"); status != http.StatusOK {
		t.Fatalf("metadata: %d %s", status, body)
	}
	status, body := get(t, base+"/AuditEvent")
	stop()
	if status != http.StatusOK || strings.Contains(string(body), `"entry"`) {
		t.Errorf("search without a trail: %d %s, want an empty searchset", status, body)
	}
	if _, err := os.Stat(filepath.Join(dir, audit.FileName)); !os.IsNotExist(err) {
		t.Errorf("audit database present with NoAudit: %v", err)
	}
}
