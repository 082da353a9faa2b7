package audit

import (
	"context"
	"database/sql"
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

// eventColumns are the columns scanRow reads, in its order.
const eventColumns = `seq, recorded, started, action, resource_type, status, client, subject, who,
	patient, source, request_id, detail, entities`

type scanner interface{ Scan(dest ...any) error }

func scanRow(s scanner) (row, error) {
	var r row
	err := s.Scan(&r.seq, &r.recorded, &r.started, &r.action, &r.typ, &r.status, &r.client, &r.subject, &r.who,
		&r.patient, &r.source, &r.requestID, &r.detail, &r.entities)
	return r, err
}

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
	seq, ok := t.ids.seq(id)
	if !ok {
		return notFound
	}
	r, err := scanRow(t.r.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM event WHERE seq = ?", seq))
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return t.internalError(ctx, "read", err)
	}
	body, err := t.render(&r)
	if err != nil {
		return t.internalError(ctx, "read", err)
	}
	return rest.Response{Status: http.StatusOK, Body: body, Version: 1, LastUpdated: microTime(r.recorded)}
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
