package telederm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
)

// Assessment is what triage says about a referral being submitted.
type Assessment struct {
	// Priority is the ServiceRequest.priority the referral gets ("asap"
	// on the suspected-cancer pathway, the GP's choice when overridden).
	Priority string
	// SLADays is how many working days the service has to answer.
	SLADays int
	// Extension is the triage-result extension (without its url).
	Extension map[string]any
	// Blocking are the required items that are missing: the submission is
	// refused with them.
	Blocking []fhir.Issue
	// Parameters is the $triage answer (an R4 Parameters resource).
	Parameters []byte
}

// Triager assesses a referral from its ServiceRequest and the resources
// around it (photos, checklist, consent, conditions, patient).
type Triager func(serviceRequest map[string]any, related []map[string]any) Assessment

// Calendar gives due dates in working days.
type Calendar interface {
	Due(submitted time.Time, workingDays int) time.Time
}

// Config configures a Workflow.
type Config struct {
	BaseURL  string
	Triage   Triager
	Calendar Calendar
	// Profiles, when set, checks the referral, its patient, photos and
	// checklist against the published profiles on every submission, and
	// advice against the advice profile. It must be the validator the
	// rest.Service has (rest.Config.Profiles): a version that claims the
	// profile in meta.profile was checked by the service when written and
	// is not checked again.
	Profiles rest.ProfileValidator
	// ServiceOwner is the reference ("Organization/dermatology") that owns
	// a referral's Task when the referral names no performer; empty leaves
	// such Tasks without an owner.
	ServiceOwner string
	Logger       *slog.Logger
}

// Workflow is the teledermatology workflow. It is a rest.CommitHook.
type Workflow struct {
	cfg Config
	log *slog.Logger
}

// New returns a Workflow; Triage and Calendar are required.
func New(cfg Config) (*Workflow, error) {
	if cfg.Triage == nil || cfg.Calendar == nil {
		return nil, errors.New("telederm: Config.Triage and Config.Calendar are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Workflow{cfg: cfg, log: log}, nil
}

// BeforeCommit implements rest.CommitHook: it looks at the versions the
// client writes (not those it adds itself) and moves the referrals they
// touch on.
func (w *Workflow) BeforeCommit(ctx context.Context, c *rest.Commit) error {
	n := len(c.Changes())
	for i := 0; i < n; i++ {
		var err error
		switch c.Changes()[i].Type {
		case "ServiceRequest":
			err = w.onReferral(ctx, c, i)
		case "Task":
			err = w.onTask(ctx, c, i)
		case "DiagnosticReport":
			err = w.onAdvice(ctx, c, i)
		case "Media", "Observation":
			err = w.onBasedOn(ctx, c, i)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// refuse is a refusal of the commit with one issue.
func refuse(status int, code, diagnostics string, expression ...string) error {
	return &rest.Refusal{Status: status, Outcome: fhir.NewOutcome(fhir.SeverityError, code, diagnostics, expression...)}
}

func conflict(diagnostics string, expression ...string) error {
	return refuse(http.StatusConflict, fhir.CodeBusinessRule, diagnostics, expression...)
}

// current is typ/id as the commit leaves it so far (nil when absent or
// deleted), a doc of the caller's own.
func current(ctx context.Context, c *rest.Commit, typ, id string) (doc, error) {
	return currentAs(ctx, c, typ, id, decodeChange)
}

// currentView is current for reading only (viewChange).
func currentView(ctx context.Context, c *rest.Commit, typ, id string) (doc, error) {
	return currentAs(ctx, c, typ, id, viewChange)
}

func currentAs(ctx context.Context, c *rest.Commit, typ, id string, of func(store.Change) (doc, error)) (doc, error) {
	if i := c.Find(typ, id); i >= 0 {
		ch := c.Changes()[i]
		if ch.Deleted {
			return nil, nil
		}
		return of(ch)
	}
	v, err := c.Current(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.Deleted) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decode(v.Body)
}

// put writes body as typ/id in the commit: replacing the commit's own
// version when it has one, else as the next stored version.
//
// Neither is validated again: an existing resource is amended (the
// workflow edits what was validated when written), and a new one (the
// referral's first Task) is built from validated parts, which the tests
// check by parsing every Task the workflow writes.
func put(ctx context.Context, c *rest.Commit, typ, id string, body doc) error {
	body["resourceType"], body["id"] = typ, id
	v, err := c.Current(ctx, typ, id)
	switch {
	case err == nil && !v.Deleted:
		return c.Amend(ctx, typ, id, body)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	return c.Create(ctx, typ, id, body)
}

// stateOf reads a referral Task's state; ok is false for a Task that is
// not a referral's.
func stateOf(task doc) (State, bool) {
	if task == nil {
		return StateNone, false
	}
	code := codingOf(obj(task, "businessStatus"), stateSystem)
	if code == "" {
		return StateNone, false
	}
	return State(code), true
}

func moveError(from, to State) error {
	return conflict(fmt.Sprintf("the referral is %s and cannot become %s", describe(from), describe(to)))
}

func describe(s State) string {
	if s == StateNone {
		return "not yet created"
	}
	return string(s)
}
