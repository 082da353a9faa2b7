package subscription

import (
	"context"
	"errors"
	"slices"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// serverWriteKey marks the context of the server's own writes of a
// Subscription (its status): they skip the rules for clients.
type serverWriteKey struct{}

func asServer(ctx context.Context) context.Context {
	return context.WithValue(ctx, serverWriteKey{}, true)
}

// CheckWrite vets a Subscription before it is written (rest.WriteChecker):
// criteria or topic and filters, channel, endpoint, payload, and the
// status a client may set. With a grant in ctx it records the grant as the
// version's owner, whose scopes then bound what notifications carry.
func (m *Manager) CheckWrite(ctx context.Context, c store.Change) *fhir.Outcome {
	if ctx.Value(serverWriteKey{}) != nil {
		return nil
	}
	spec, issues := m.parseSpec(c.Body, c.Version)
	allowed := []string{statusRequested, statusOff}
	if c.PrevVersion > 0 {
		// Writing back the status the server set is fine (a client that
		// edits another element of what it read).
		prev, err := m.cfg.Repo.Version(ctx, c.Type, c.ID, c.PrevVersion)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return m.checkFailed(ctx, "read the current Subscription", err)
		}
		if err == nil && !prev.Deleted {
			if cur, _ := m.parseSpec(prev.Body, prev.VersionID); cur.Status != "" {
				allowed = append(allowed, cur.Status)
			}
		}
	}
	if !slices.Contains(allowed, spec.Status) {
		issues = append(issues, issue(fhir.CodeBusinessRule, "Subscription.status",
			"a client sets status requested (to start a subscription) or off (to stop it), not %q: the server moves it to active or error", spec.Status))
	}
	if len(issues) > 0 {
		return &fhir.Outcome{ResourceType: "OperationOutcome", Issue: issues}
	}
	if g := access.FromContext(ctx); g != nil {
		if err := m.cfg.State.SaveOwner(ctx, c.ID, store.Owner{Version: c.Version, Digest: digest(c.Body), Grant: encodeGrant(g)}); err != nil {
			return m.checkFailed(ctx, "record the Subscription's owner", err)
		}
	}
	return nil
}

func (m *Manager) checkFailed(ctx context.Context, what string, err error) *fhir.Outcome {
	m.log.ErrorContext(ctx, "subscription check failed", "step", what, "err", err)
	return fhir.NewOutcome(fhir.SeverityError, fhir.CodeException, "the server could not "+what+"; try again")
}
