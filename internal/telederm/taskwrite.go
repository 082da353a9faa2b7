package telederm

import (
	"context"
	"fmt"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

// onTask checks a client's write of a referral's Task: the consultant
// starts a review (in-progress), hands it back (requested) or cancels
// it. The fields the workflow manages (state, clock, due date, focus)
// keep the server's values.
func (w *Workflow) onTask(ctx context.Context, c *rest.Commit, i int) error {
	ch := c.Changes()[i]
	stored, err := c.Stored(ctx, "Task", ch.ID)
	var prev doc
	if err == nil && !stored.Deleted {
		if prev, err = decode(stored.Body); err != nil {
			return err
		}
	}
	from, ours := stateOf(prev)
	if !ours {
		if prev == nil && !ch.Deleted {
			sr, err := current(ctx, c, "ServiceRequest", ch.ID)
			if err != nil {
				return err
			}
			if sr != nil && isReferral(sr) {
				return conflict("the server creates a referral's Task when the referral is written; it cannot be created by a client", "Task.id")
			}
		}
		return nil // some other Task
	}
	if ch.Deleted {
		return conflict("a referral's Task cannot be deleted; cancel the referral instead")
	}
	next, err := decodeChange(ch)
	if err != nil {
		return err
	}
	var to State
	switch status := str(next, "status"); {
	case status == taskStatus[from]:
		to = from
	case status == "requested":
		to = StateSubmitted
	case status == "in-progress":
		to = StateInReview
	case status == "cancelled":
		to = StateCancelled
	case status == "completed":
		return conflict("a referral's Task is completed by issuing advice (a DiagnosticReport with an outcome code), not by changing its status", "Task.status")
	case status == "on-hold":
		return conflict("more information is requested by advice with the outcome more-information, not by changing the Task's status", "Task.status")
	default:
		return conflict(fmt.Sprintf("a referral's Task cannot have status %q", status), "Task.status")
	}
	if !CanMove(from, to) {
		return moveError(from, to)
	}
	// The client's version, with the managed fields put back.
	for _, k := range []string{"businessStatus", "intent", "code", "focus", "basedOn", "for", "authoredOn",
		"executionPeriod", "restriction", "output", "priority", "requester", "extension"} {
		if v, has := prev[k]; has {
			next[k] = v
		} else {
			delete(next, k)
		}
	}
	setAccess(next, accessOf(prev)) // the labels are the workflow's
	if err := w.setState(ctx, c, ch.ID, next, nil, to, zeroTime); err != nil {
		return err
	}
	if to == StateCancelled && from != StateCancelled {
		return setRequestStatus(ctx, c, ch.ID, StateCancelled)
	}
	return nil
}

// setRequestStatus moves the referral's ServiceRequest to the status of
// state s.
func setRequestStatus(ctx context.Context, c *rest.Commit, id string, s State) error {
	sr, err := current(ctx, c, "ServiceRequest", id)
	if err != nil {
		return err
	}
	if sr == nil {
		return &rest.Refusal{Status: 409, Outcome: fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotFound,
			"the referral ServiceRequest/"+id+" of this Task no longer exists")}
	}
	if str(sr, "status") == requestStatus[s] {
		return nil
	}
	sr["status"] = requestStatus[s]
	return put(ctx, c, "ServiceRequest", id, sr)
}
