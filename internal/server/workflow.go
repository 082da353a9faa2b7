package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/telederm"
	"github.com/telederm/telederm/internal/telederm/published"
	"github.com/telederm/telederm/internal/telederm/stats"
	"github.com/telederm/telederm/internal/telederm/triage"
	"github.com/telederm/telederm/internal/telederm/workdays"
	"github.com/telederm/telederm/profiles"
)

// registryWithProfiles is the R4 search parameters plus those the
// profiles publish (the worklist's worklist-rank and due).
func registryWithProfiles() (*search.Registry, error) {
	params := search.DefaultParams()
	for _, b := range profiles.SearchParameters() {
		p, err := search.ParamFromJSON(b)
		if err != nil {
			return nil, fmt.Errorf("published search parameters: %w", err)
		}
		params = append(params, p)
	}
	return search.NewRegistry(params), nil
}

// publish writes the published profiles and terminology into the store
// (new versions only where they changed) and returns their validator.
func publish(ctx context.Context, repo store.Repository, codec *fhir.Codec, reg *search.Registry, base string, now time.Time) (rest.ProfileValidator, error) {
	pv, err := profiles.Validator()
	if err != nil {
		return nil, fmt.Errorf("load the published profiles: %w", err)
	}
	if err := published.Install(ctx, repo, codec, search.NewIndexer(reg, base), now); err != nil {
		return nil, fmt.Errorf("publish the profiles: %w", err)
	}
	return pv, nil
}

// loadCalendar is the operator's holiday file, or the committed England
// and Wales calendar.
func loadCalendar(path string) (*workdays.Calendar, error) {
	if path == "" {
		return workdays.Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("holidays: %w", err)
	}
	defer f.Close()
	cal, err := workdays.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("holidays %s: %w", path, err)
	}
	return cal, nil
}

// newWorkflow builds the teledermatology workflow from the operator's
// rules file (the committed defaults when not given).
func newWorkflow(cfg Config, cal *workdays.Calendar, pv rest.ProfileValidator, log *slog.Logger) (*telederm.Workflow, error) {
	rules := triage.Default()
	if cfg.TriageRules != "" {
		f, err := os.Open(cfg.TriageRules)
		if err != nil {
			return nil, fmt.Errorf("triage rules: %w", err)
		}
		rules, err = triage.Load(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("triage rules %s: %w", cfg.TriageRules, err)
		}
	}
	return telederm.New(telederm.Config{
		BaseURL: cfg.BaseURL, Triage: telederm.TriageWith(rules), Calendar: cal,
		Profiles: pv, ServiceOwner: cfg.ServiceOwner, Logger: log,
	})
}

// statsOperation is ServiceRequest/$stats, reading with the server's
// rights once the caller may search ServiceRequests.
func statsOperation(service func() *rest.Service, cal *workdays.Calendar) rest.Operation {
	op := stats.Operation(func(ctx context.Context, typ string, params url.Values) ([]store.Version, error) {
		return service().SystemSearch(ctx, typ, params)
	}, cal)
	run := op.Run
	op.Run = func(ctx context.Context, id string, params url.Values, body []byte) rest.Response {
		if r, ok := service().RequireOpenSearch(ctx, "ServiceRequest"); !ok {
			return r
		}
		return run(ctx, id, params, body)
	}
	return op
}
