package rest

import (
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/store/sqlite"
)

const opsBase = "http://fhir.test"

// newOpsService is a Service on a fresh SQLite store and blob directory.
func newOpsService(t testing.TB) *Service { return newTestService(t, Config{}) }

// newTestService is a Service with cfg (BaseURL defaults to opsBase, logs
// are discarded) on a fresh SQLite store and blob directory.
func newTestService(t testing.TB, cfg Config) *Service {
	t.Helper()
	dir := t.TempDir()
	repo, err := sqlite.Open(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	blobs, err := media.NewFileStore(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = opsBase
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return New(repo, blobs, codec, cfg)
}

// put stores a resource at its id, failing the test on an error.
func put(t *testing.T, s *Service, typ, id, body string) Response {
	t.Helper()
	r := s.Update(t.Context(), typ, id, []byte(body), "")
	if !r.OK() {
		t.Fatalf("PUT %s/%s: %d %s", typ, id, r.Status, r.Body)
	}
	return r
}

// issues renders an OperationOutcome's issues as "severity code
// expression" lines, sorted, for comparison.
func issues(t *testing.T, body []byte) []string {
	t.Helper()
	var o fhir.Outcome
	if err := json.Unmarshal(body, &o); err != nil || o.ResourceType != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %s", body)
	}
	out := []string{}
	for _, is := range o.Issue {
		line := is.Severity + " " + is.Code
		for _, e := range is.Expression {
			line += " " + e
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}
