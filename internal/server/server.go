// Package server assembles the parts of a running Telederm (store, blob
// store, codec, REST service, HTTP API) from one configuration, so the
// command and the tests build exactly the same server.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/api"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// Config is what a server needs to start.
type Config struct {
	DataDir        string // database and blobs live here
	BaseURL        string // public base URL, no trailing slash
	SyncFull       bool   // fsync every commit (survives OS crashes, slower)
	MaxBodyBytes   int64
	MaxBinaryBytes int64
	// MaxBundleBytes and MaxBundleEntries cap batches and transactions;
	// 0 means the defaults (64 MiB, 1,000 entries).
	MaxBundleBytes   int64
	MaxBundleEntries int
	Logger           *slog.Logger
	// Registry is the search-parameter registry; nil means the R4 default.
	Registry *search.Registry
}

// Server is an assembled Telederm.
type Server struct {
	handler http.Handler
	repo    *sqlite.Store
}

// Open opens the store under cfg.DataDir and builds the HTTP handler.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	sync := sqlite.SyncNormal
	if cfg.SyncFull {
		sync = sqlite.SyncFull
	}
	repo, err := sqlite.Open(ctx, cfg.DataDir, sqlite.Options{Synchronous: sync})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	blobs, err := media.NewFileStore(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open blob store: %w", err), repo.Close())
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		return nil, errors.Join(err, repo.Close())
	}
	svc := rest.New(repo, blobs, codec, rest.Config{
		BaseURL: cfg.BaseURL, MaxBinaryBytes: cfg.MaxBinaryBytes, MaxBundleEntries: cfg.MaxBundleEntries,
		Logger: log, Registry: cfg.Registry,
	})
	h := api.New(svc, api.Config{MaxBodyBytes: cfg.MaxBodyBytes, MaxBundleBytes: cfg.MaxBundleBytes, Logger: log, Ready: repo.Ping})
	return &Server{handler: h, repo: repo}, nil
}

// Handler serves the FHIR API.
func (s *Server) Handler() http.Handler { return s.handler }

// Close closes the store; call it after the HTTP server has drained.
func (s *Server) Close() error { return s.repo.Close() }
