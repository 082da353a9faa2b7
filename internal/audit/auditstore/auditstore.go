// Package auditstore is the contract between the audit trail
// (internal/audit) and the places its events can live: a SQLite file of
// one process (the embedded store, in internal/audit), or a database every
// process of a deployment shares (internal/store/mongo). It is a package of
// its own so that a store can implement Store without importing the trail.
//
// The trail turns events into rows, ids into keys and search parameters
// into a Cond; a Store appends rows and answers Conds. A Store offers no
// way to change or remove a row: the trail is append-only.
package auditstore

import "context"

// Row is an event as stored. Strings are empty when absent. Times are
// microseconds since the Unix epoch, UTC.
type Row struct {
	// Key identifies the row in its store: unique, assigned by the store
	// when it appends the row, opaque to the trail (which encrypts it into
	// the AuditEvent id). Rows order by (Recorded, Key).
	Key               string
	Recorded, Started int64 // when the response was sent; when the request arrived
	Action, Type      string
	Status            int
	Client, Subject   string
	Who               string // fhirUser, as a local reference when under the base URL
	Patient           string // id of the patient in context
	Source, RequestID string
	Detail            string
	Entities          []string // the Type/ids touched, without repeats
}

// Position is where a page starts: after the row recorded at Recorded with
// key Key, in the order of the search.
type Position struct {
	Recorded int64
	Key      string
}

// Store keeps the rows. It is safe for concurrent use, except that Append
// is called by one writer at a time.
type Store interface {
	// IDKey is the AES-256 key AuditEvent ids are encrypted with, kept
	// with the rows (losing it would change every id).
	IDKey() []byte
	// Append writes a batch of rows. It sets the Key of each row that has
	// none; the caller retries a failed batch with the same rows, keys
	// included, so that a store whose batch is not atomic can skip the
	// rows it wrote before it failed instead of writing them twice.
	Append(ctx context.Context, rows []Row) error
	// Get reads the row with key; false when there is none.
	Get(ctx context.Context, key string) (Row, bool, error)
	// Page reads up to limit rows matching c in (Recorded, Key) order,
	// ascending or descending, starting after after when it is not nil.
	Page(ctx context.Context, c Cond, after *Position, ascending bool, limit int) ([]Row, error)
	// Count counts the rows matching c.
	Count(ctx context.Context, c Cond) (int, error)
	// Close releases what the store holds (not a database it shares).
	Close() error
}
