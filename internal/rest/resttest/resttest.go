// Package resttest builds rest.Services for tests of the packages that plug
// into the REST layer: a fresh SQLite store and blob directory under the
// test's temporary directory, logs discarded.
package resttest

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// New returns a Service with cfg (Logger defaults to a discarding one) and
// its store, closed when the test ends.
func New(t testing.TB, cfg rest.Config) (*rest.Service, *sqlite.Store) {
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
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return rest.New(repo, blobs, codec, cfg), repo
}
