package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations upgrade the schema one step each; migrations[i] takes
// PRAGMA user_version from i to i+1. Append only: never edit a step that has
// shipped. Search-index tables come as later steps and reference resource.rid.
var migrations = [][]string{
	// 1: resources and every version of them.
	{
		// One row per resource: its current version, found by (type, id)
		// without touching history.
		`CREATE TABLE resource (
			rid     INTEGER PRIMARY KEY,
			type    TEXT    NOT NULL,
			id      TEXT    NOT NULL,
			version INTEGER NOT NULL,
			seq     INTEGER NOT NULL, -- resource_version.seq of the current version
			UNIQUE (type, id)
		) STRICT`,
		// seq is the global commit order: history is newest first by seq and
		// cursors are seqs, so pages stay put while new rows get larger seqs.
		// AUTOINCREMENT keeps seqs from being reused.
		`CREATE TABLE resource_version (
			seq           INTEGER PRIMARY KEY AUTOINCREMENT,
			rid           INTEGER NOT NULL REFERENCES resource (rid),
			type          TEXT    NOT NULL, -- copy of resource.type, for type-level history
			version       INTEGER NOT NULL,
			last_updated  INTEGER NOT NULL, -- µs since the Unix epoch
			superseded_at INTEGER,          -- last_updated of the next version; NULL while current
			method        TEXT    NOT NULL,
			deleted       INTEGER NOT NULL,
			body          BLOB,             -- NULL for a tombstone
			blob_ref      TEXT    NOT NULL,
			UNIQUE (rid, version)
		) STRICT`,
		`CREATE INDEX resource_version_rid_seq ON resource_version (rid, seq)`,
		`CREATE INDEX resource_version_type_seq ON resource_version (type, seq)`,
	},
}

// migrate brings the schema up to date in one transaction, so a crash
// mid-way leaves the previous version intact.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin migration: %w", err)
	}
	defer tx.Rollback() // a no-op once committed
	var have int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this program knows (%d)", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlite: migrate schema to version %d: %w", v+1, err)
			}
		}
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("sqlite: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit migration: %w", err)
	}
	return nil
}
