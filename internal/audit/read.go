package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

var (
	_ Recorder        = (*Trail)(nil)
	_ rest.AuditTrail = (*Trail)(nil)
)

// ReadAuditEvent answers GET AuditEvent/[id]. The response touches
// nothing: reading the trail is audited as the read itself, not as access
// to the resources the event names.
func (t *Trail) ReadAuditEvent(ctx context.Context, id string) rest.Response {
	if !validID(id) {
		return failure(http.StatusBadRequest, fhir.NewOutcome(fhir.SeverityError, fhir.CodeValue,
			fmt.Sprintf("%q is not a valid resource id (1-64 of A-Z a-z 0-9 - .)", id), "AuditEvent.id"))
	}
	notFound := failure(http.StatusNotFound, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotFound,
		fmt.Sprintf("AuditEvent/%s is not known", id)))
	key, ok := t.ids.key(id)
	if !ok {
		return notFound
	}
	r, found, err := t.store.Get(ctx, key)
	if err != nil {
		return t.internalError(ctx, "read", err)
	}
	if !found {
		return notFound
	}
	body, err := t.render(&r)
	if err != nil {
		return t.internalError(ctx, "read", err)
	}
	return rest.Response{Status: http.StatusOK, Body: body, Version: 1, LastUpdated: microTime(r.Recorded)}
}

func failure(status int, o *fhir.Outcome) rest.Response {
	return rest.Response{Status: status, Body: o.JSON(), Outcome: o}
}

// internalError logs the cause and hides it from the client.
func (t *Trail) internalError(ctx context.Context, op string, err error) rest.Response {
	t.log.ErrorContext(ctx, "audit trail query failed", "op", op, "err", err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return failure(http.StatusServiceUnavailable, fhir.NewOutcome(fhir.SeverityError, fhir.CodeException, "the request was cancelled or timed out"))
	}
	return failure(http.StatusInternalServerError, fhir.NewOutcome(fhir.SeverityError, fhir.CodeException, "internal server error"))
}
