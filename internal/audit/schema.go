package audit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
)

// schemaVersion is PRAGMA user_version of an audit database this code
// writes; migrate refuses a newer one.
const schemaVersion = 1

// schema is the audit database. The event table is append-only: seq is
// the order events were written (INTEGER PRIMARY KEY, never reused as
// nothing is deleted), and triggers refuse updates and deletes so that not
// even a bug in this package can rewrite history. Strings are empty when
// absent, never NULL. Times are microseconds since the Unix epoch, UTC.
//
// The writer inserts one event row per event and nothing else: its pages
// fill in order, so a batch writes few of them. An index on who or on the
// resources touched would put each event on another page (one per user,
// per resource), and writing those pages was most of the writer's cost; so
// ix, the index the agent, entity and patient searches read, is filled in
// bulk, sorted, every foldEvents events (fold.go), and searches read the
// newer events (after meta 'folded') directly.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta (
		key   TEXT PRIMARY KEY,
		value BLOB NOT NULL
	) WITHOUT ROWID`,
	`INSERT OR IGNORE INTO meta (key, value) VALUES ('folded', 0)`,
	`CREATE TABLE IF NOT EXISTS event (
		seq           INTEGER PRIMARY KEY,
		recorded      INTEGER NOT NULL, -- when the event was recorded (the response was sent)
		started       INTEGER NOT NULL, -- when the request arrived
		action        TEXT    NOT NULL, -- Event.Action: read, search-compartment, auth-token ...
		resource_type TEXT    NOT NULL,
		status        INTEGER NOT NULL, -- HTTP status; the outcome code derives from it
		client        TEXT    NOT NULL,
		subject       TEXT    NOT NULL,
		who           TEXT    NOT NULL, -- fhirUser as a local reference when under the base URL
		patient       TEXT    NOT NULL, -- id of the patient in context
		source        TEXT    NOT NULL, -- remote address
		request_id    TEXT    NOT NULL,
		detail        TEXT    NOT NULL, -- why it failed, quoted values redacted
		entities      TEXT    NOT NULL  -- JSON array of the Type/ids touched; empty for none
	)`,
	`CREATE INDEX IF NOT EXISTS event_recorded ON event(recorded)`,
	// ix keys: "e Type/id" for a resource touched or the patient in
	// context, "w <who>" for the user.
	`CREATE TABLE IF NOT EXISTS ix (
		key TEXT    NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (key, seq)
	) WITHOUT ROWID`,
	`CREATE TRIGGER IF NOT EXISTS event_no_update BEFORE UPDATE ON event
		BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS event_no_delete BEFORE DELETE ON event
		BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS ix_no_update BEFORE UPDATE ON ix
		BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`,
	`CREATE TRIGGER IF NOT EXISTS ix_no_delete BEFORE DELETE ON ix
		BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END`,
}

// migrate creates the schema, or checks that an existing one is this
// version, and returns the database's id key (created on first open).
func migrate(ctx context.Context, db *sql.DB) ([]byte, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return nil, fmt.Errorf("audit: read schema version: %w", err)
	}
	if v > schemaVersion {
		return nil, fmt.Errorf("audit: the database has schema version %d; this build knows up to %d", v, schemaVersion)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("audit: migrate: %w", err)
	}
	defer tx.Rollback() // a no-op once committed
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("audit: create schema: %w", err)
		}
	}
	key, err := idKey(ctx, tx)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return nil, fmt.Errorf("audit: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("audit: migrate: %w", err)
	}
	return key, nil
}

// idKey reads the key AuditEvent ids are encrypted with, creating it in
// a new database. Losing it would change every id, so it lives in the
// same file as the events.
func idKey(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	var key []byte
	err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'id_key'").Scan(&key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		key = make([]byte, idKeySize)
		_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('id_key', ?)", key); err != nil {
			return nil, fmt.Errorf("audit: store id key: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("audit: read id key: %w", err)
	case len(key) != idKeySize:
		return nil, fmt.Errorf("audit: the stored id key has %d bytes, want %d", len(key), idKeySize)
	}
	return key, nil
}
