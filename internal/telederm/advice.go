package telederm

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

// onAdvice takes a consultant's advice: a DiagnosticReport based on a
// referral becoming final (or amended, corrected) sets the referral's
// state from its outcome code, stops the clock and links the advice.
func (w *Workflow) onAdvice(ctx context.Context, c *rest.Commit, i int) error {
	ch := c.Changes()[i]
	if ch.Deleted || !basedOnRequest(ch.Index) {
		return nil
	}
	dr, err := decodeChange(ch)
	if err != nil {
		return err
	}
	switch str(dr, "status") {
	case "final", "amended", "corrected":
	default:
		return nil // a preliminary report is not advice yet
	}
	for _, r := range refs(dr["basedOn"]) {
		typ, id, ok := localRef(r, w.cfg.BaseURL)
		if !ok || typ != "ServiceRequest" {
			continue
		}
		task, err := current(ctx, c, "Task", id)
		if err != nil {
			return err
		}
		from, ours := stateOf(task)
		if !ours {
			continue // not a referral of this workflow
		}
		outcome := codingOf(dr["conclusionCode"], outcomeSystem)
		if outcome == "" {
			return refuse(http.StatusUnprocessableEntity, fhir.CodeRequired,
				"advice on a referral needs an outcome: a conclusionCode from "+outcomeSystem, "DiagnosticReport.conclusionCode")
		}
		to, known := adviceState(outcome)
		if !known {
			return refuse(http.StatusUnprocessableEntity, fhir.CodeCodeInvalid,
				fmt.Sprintf("%q is not an advice outcome", outcome), "DiagnosticReport.conclusionCode")
		}
		if w.cfg.Profiles != nil && !claims(dr, ProfileAdvice) {
			if issues := w.cfg.Profiles.Validate(ctx, ProfileAdvice, dr); len(issues) > 0 {
				o := &fhir.Outcome{ResourceType: "OperationOutcome", Issue: issues}
				if o.HasErrors() {
					return &rest.Refusal{Status: http.StatusUnprocessableEntity, Outcome: o}
				}
			}
		}
		if !CanMove(from, to) {
			return moveError(from, to)
		}
		if sr, err := current(ctx, c, "ServiceRequest", id); err != nil {
			return err
		} else if sr != nil && !slices.Equal(accessOf(dr), accessOf(sr)) {
			setAccess(dr, accessOf(sr))
			if err := put(ctx, c, "DiagnosticReport", ch.ID, dr); err != nil {
				return err
			}
		}
		if from == to && from != StateSubmitted && from != StateInReview {
			// An amended advice with the same outcome: link it, keep the clock.
			stopClockKeep(task, "DiagnosticReport/"+ch.ID)
			return put(ctx, c, "Task", id, task)
		}
		stopClock(task, c.Now(), "DiagnosticReport/"+ch.ID)
		if err := w.setState(ctx, c, id, task, nil, to, zeroTime); err != nil {
			return err
		}
		if err := setRequestStatus(ctx, c, id, to); err != nil {
			return err
		}
	}
	return nil
}

// stopClockKeep links advice without moving the clock's end.
func stopClockKeep(task doc, adviceRef string) {
	for _, o := range list(task, "output") {
		if om, _ := o.(map[string]any); str(obj(om, "valueReference"), "reference") == adviceRef {
			return
		}
	}
	task["output"] = append(list(task, "output"), doc{"type": doc{"text": "Advice"}, "valueReference": doc{"reference": adviceRef}})
}
