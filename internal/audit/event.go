// Package audit keeps the audit trail: one Event for every FHIR interaction
// and every authorization decision, written durably and asynchronously, and
// served back as read-only AuditEvent resources to holders of an audit
// scope.
//
// A Trail queues each recorded event in memory and returns; one writer
// goroutine appends the queue to its store in batches of up to MaxBatch
// events. The store (auditstore.Store) is, with the embedded deployment,
// a SQLite database of the process's own (audit.db in the data directory,
// apart from the main store so the two never wait for each other's write
// lock; one transaction per batch); with MongoDB, a collection every
// process of the deployment shares (internal/store/mongo), so that a
// search on any process sees the events of all. Nothing is dropped: when
// the queue is full, Record waits for the writer. Close writes everything
// queued before it returns.
//
// Durability: a committed batch survives a process crash (and, with
// SyncFull on SQLite, an OS crash). A crash loses the events still queued
// or in the batch being written: at most the queue size plus one batch, in
// practice the last few milliseconds of requests.
//
// The trail is append-only: the API serves AuditEvent reads and searches
// from it and refuses every write (internal/rest), a store offers no way
// to change or remove an event, and the SQLite database itself refuses
// updates and deletes. It never holds resource content, search values,
// tokens or query strings: only types, ids, codes and identities.
package audit

import (
	"context"
	"time"
)

// Event is one audited interaction or authorization decision. It never
// carries resource content or search values: only who, what kind of thing,
// which resources by id, when, from where and how it ended.
type Event struct {
	Time time.Time
	// Action names what was done: a FHIR interaction (read, vread, update,
	// patch, delete, history-instance, history-type, history-system,
	// create, search-type, search-system, search-compartment, batch,
	// transaction, operation) or an authorization step (auth-token,
	// auth-authorize, auth-launch, auth-introspect, auth-revoke,
	// auth-login).
	Action string
	// Method and Route are the HTTP method and the route template (never
	// the path, which can carry identifiers).
	Method, Route string
	Type          string // resource type of the request, if any
	Status        int    // HTTP status answered
	// ClientID, Subject, FHIRUser and Patient identify the caller, from the
	// grant (empty when authorization is off or the token was refused).
	ClientID, Subject, FHIRUser, Patient string
	Source                               string // remote address
	RequestID                            string
	// Entities are the resources touched, as Type/id (read, written,
	// returned by a search).
	Entities []string
	// Detail says why a request failed (an OperationOutcome's first
	// diagnostics, or the auth error); empty on success.
	Detail string
}

// Recorder accepts events. Record must not block the request for long: an
// implementation queues the event and writes it in the background.
type Recorder interface {
	Record(ctx context.Context, e Event)
}

// Outcome is the AuditEvent.outcome code for an HTTP status: 0 success, 4
// minor failure (the client's error), 8 serious failure (the server's).
func Outcome(status int) string {
	switch {
	case status < 400:
		return "0"
	case status < 500:
		return "4"
	}
	return "8"
}
