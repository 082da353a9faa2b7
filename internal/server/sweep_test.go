package server

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/media"
)

// TestOrphanedBlobsSwept: content stored for a write that then failed is
// removed by the sweeper; content a version refers to stays.
func TestOrphanedBlobsSwept(t *testing.T) {
	// Without a sweep the failed write's content stays behind: the orphan
	// this test is about.
	idle := t.TempDir()
	if n := sweepScenario(t, idle, time.Hour); n != 2 {
		t.Fatalf("%d blobs after the failed transaction with no sweep, want 2 (the orphan and the kept one)", n)
	}
	if n := sweepScenario(t, t.TempDir(), 20*time.Millisecond); n != 1 {
		t.Fatalf("%d blobs left, want only the referenced one", n)
	}
}

// sweepScenario (with a grace period of 300 ms, longer than any write
// here takes) stores one Binary, leaves another blob that no version
// refers to, gives the sweeper (running every interval) time to act and
// returns how many blobs are left, having checked the kept one reads back.
func sweepScenario(t *testing.T, dir string, every time.Duration) int {
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := Open(context.Background(), Config{DataDir: dir, BaseURL: base, Auth: "off", BlobSweepEvery: every,
		BlobGrace: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	defer func() {
		ts.Close()
		if err := app.Close(); err != nil {
			t.Error(err)
		}
	}()
	post := func(path, body string, want int) []byte {
		t.Helper()
		resp, err := http.Post(base+path, "application/fhir+json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, b)
		}
		return b
	}
	var kept struct{ ID string }
	if err := json.Unmarshal(post("/Binary", `{"resourceType":"Binary","contentType":"image/jpeg","data":"a2VwdA=="}`, http.StatusCreated), &kept); err != nil {
		t.Fatal(err)
	}
	// A write stores its content just before it commits; content whose
	// commit then failed is left behind like this.
	orphans, err := media.NewFileStore(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orphans.Put(context.Background(), []byte("orphan")); err != nil {
		t.Fatal(err)
	}
	blobs := func() []string {
		var out []string
		_ = filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				out = append(out, d.Name())
			}
			return nil
		})
		return out
	}
	if every < time.Second {
		deadline := time.Now().Add(10 * time.Second)
		for len(blobs()) != 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	r, err := http.Get(base + "/Binary/" + kept.ID)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if string(content) != "kept" {
		t.Errorf("the referenced Binary reads %q, want %q", content, "kept")
	}
	return len(blobs())
}
