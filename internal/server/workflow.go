package server

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/telederm"
	"github.com/telederm/telederm/internal/telederm/triage"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

// newWorkflow builds the teledermatology workflow from the operator's
// rules and calendar files (the committed defaults when not given).
func newWorkflow(cfg Config, profiles rest.ProfileValidator, log *slog.Logger) (*telederm.Workflow, error) {
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
	cal := workdays.Default()
	if cfg.Holidays != "" {
		f, err := os.Open(cfg.Holidays)
		if err != nil {
			return nil, fmt.Errorf("holidays: %w", err)
		}
		cal, err = workdays.Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("holidays %s: %w", cfg.Holidays, err)
		}
	}
	return telederm.New(telederm.Config{
		BaseURL: cfg.BaseURL, Triage: telederm.TriageWith(rules), Calendar: cal,
		Profiles: profiles, ServiceOwner: cfg.ServiceOwner, Logger: log,
	})
}
