// Package servertest starts in-process Telederm servers for tests: a real
// server on loopback over a fresh data directory, as a client sees it.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// Start runs a server with cfg (DataDir defaults to a temporary directory,
// BaseURL is the listener's, logs are discarded unless cfg has a Logger;
// cfg.Auth is the caller's to say: "off" for tests that send no tokens)
// until the test ends, and returns its base URL. wrap, when given, wraps
// the handler: tests build a server that breaks one rule on purpose that
// way.
//
// With TELEDERM_TEST_STORE=ferretdb (mongotest.EnvStore) a server whose
// cfg.Store is empty keeps its resources in a fresh database of an
// in-process FerretDB instead of the embedded store, accepting
// non-atomic transactions (FerretDB has none): the same tests then run
// on the MongoDB backend. TELEDERM_TEST_MONGODB_URI (mongotest.EnvURI)
// runs them on that deployment instead.
func Start(t testing.TB, cfg server.Config, wrap ...func(http.Handler) http.Handler) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.BaseURL = base
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Store == "" && mongotest.Wanted() {
		uri, err := mongotest.URI()
		if err != nil {
			t.Fatalf("the MongoDB backend for tests: %v", err)
		}
		cfg.Store, cfg.MongoNonAtomicTransactions = uri, true
		t.Cleanup(func() { _ = mongotest.Drop(uri) }) // after the server's Close (cleanups run last first)
	}
	app, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := app.Handler()
	for _, w := range wrap {
		h = w(h)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		if err := app.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return base
}

// Process runs one server process of a deployment of several behind a
// load balancer: cfg names the deployment's public BaseURL and shared
// Store; the process gets a data directory of its own (unless cfg has
// one) and its own listener, and is closed when the test ends. It returns
// the process's own URL, where the test reaches it directly.
func Process(t testing.TB, cfg server.Config) string {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	app, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := app.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return ts.URL
}
