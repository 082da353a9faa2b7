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
)

// Start runs a server with cfg (DataDir defaults to a temporary directory,
// BaseURL is the listener's, logs are discarded unless cfg has a Logger;
// cfg.Auth is the caller's to say: "off" for tests that send no tokens)
// until the test ends, and returns its base URL. wrap, when given, wraps
// the handler: tests build a server that breaks one rule on purpose that
// way.
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
