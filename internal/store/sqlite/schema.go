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
	// 2: search-index entries of every current, not deleted resource, one
	// table per kind of value (as HAPI does), each row tied to resource.rid
	// and replaced whole when the resource changes. type and param lead
	// every lookup index: a search always names both.
	{
		`ALTER TABLE resource ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0`,
		`CREATE TABLE idx_token (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			system TEXT NOT NULL, code TEXT NOT NULL, text TEXT NOT NULL,
			type_system TEXT NOT NULL, type_code TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX idx_token_code ON idx_token (type, param, code, system)`,
		`CREATE INDEX idx_token_rid ON idx_token (rid)`,
		`CREATE TABLE idx_string (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			norm TEXT NOT NULL, exact TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX idx_string_norm ON idx_string (type, param, norm)`,
		`CREATE INDEX idx_string_rid ON idx_string (rid)`,
		// Dates as [lo, hi) in µs; open ends are the int64 extremes.
		`CREATE TABLE idx_date (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			lo INTEGER NOT NULL, hi INTEGER NOT NULL
		) STRICT`,
		`CREATE INDEX idx_date_lo ON idx_date (type, param, lo)`,
		`CREATE INDEX idx_date_hi ON idx_date (type, param, hi)`,
		`CREATE INDEX idx_date_rid ON idx_date (rid)`,
		// Numbers and quantities: the value and its precision range; system,
		// code and unit are empty for plain numbers.
		`CREATE TABLE idx_number (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			num REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL,
			system TEXT NOT NULL, code TEXT NOT NULL, unit TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX idx_number_lo ON idx_number (type, param, lo)`,
		`CREATE INDEX idx_number_rid ON idx_number (rid)`,
		// References: local ones by target type and id (also what _revinclude
		// and _has follow backwards), others by URL; identifier references by
		// system and code.
		`CREATE TABLE idx_ref (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			ref_type TEXT NOT NULL, ref_id TEXT NOT NULL,
			url TEXT NOT NULL, version TEXT NOT NULL,
			system TEXT NOT NULL, code TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX idx_ref_target ON idx_ref (ref_type, ref_id, type, param)`,
		`CREATE INDEX idx_ref_param ON idx_ref (type, param, ref_type, ref_id)`,
		`CREATE INDEX idx_ref_url ON idx_ref (type, param, url)`,
		`CREATE INDEX idx_ref_rid ON idx_ref (rid)`,
		`CREATE TABLE idx_uri (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			uri TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX idx_uri_uri ON idx_uri (type, param, uri)`,
		`CREATE INDEX idx_uri_rid ON idx_uri (rid)`,
		// Composites: one row per element, the parts as JSON; matched after
		// the first part narrows by (type, param, code1).
		`CREATE TABLE idx_composite (
			rid INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL,
			code1 TEXT NOT NULL, parts TEXT NOT NULL
		) STRICT`,
		`CREATE INDEX idx_composite_code ON idx_composite (type, param, code1)`,
		`CREATE INDEX idx_composite_rid ON idx_composite (rid)`,
	},
	// 3: multi marks the date and number entries of a resource that has
	// several values for the parameter, so a two-sided range can be found
	// on one entry and only multi-valued resources need testing clause by
	// clause (search_range.go).
	{
		`ALTER TABLE idx_date ADD COLUMN multi INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE idx_number ADD COLUMN multi INTEGER NOT NULL DEFAULT 0`,
		`UPDATE idx_date SET multi = 1 WHERE (rid, param) IN (SELECT rid, param FROM idx_date GROUP BY rid, param HAVING COUNT(*) > 1)`,
		`UPDATE idx_number SET multi = 1 WHERE (rid, param) IN (SELECT rid, param FROM idx_number GROUP BY rid, param HAVING COUNT(*) > 1)`,
		`CREATE INDEX idx_date_multi ON idx_date (type, param) WHERE multi = 1`,
		`CREATE INDEX idx_number_multi ON idx_number (type, param) WHERE multi = 1`,
		// The widest date entry of each parameter (hi - lo, µs). A date
		// range condition then bounds lo on both sides, so it is one index
		// range scan. It only grows, which keeps it a safe bound.
		`CREATE TABLE idx_date_span (
			type TEXT NOT NULL, param TEXT NOT NULL, span INTEGER NOT NULL,
			PRIMARY KEY (type, param)
		) STRICT, WITHOUT ROWID`,
		// Most references are local (ref_type/ref_id) and have no URL: index
		// only those that do, one B-tree insert fewer per reference.
		`DROP INDEX idx_ref_url`,
		`CREATE INDEX idx_ref_url ON idx_ref (type, param, url) WHERE url != ''`,
		`INSERT INTO idx_date_span (type, param, span)
			SELECT type, param, MAX(CASE WHEN lo = -9223372036854775808 OR hi = 9223372036854775807
				THEN 9223372036854775807 ELSE hi - lo END) FROM idx_date GROUP BY type, param`,
	},
	// 4: an index row's rowid is rid * 65536 + its ordinal within the
	// resource, so a resource's rows are one rowid range: deleting them
	// needs no rid index, and each entry costs one B-tree insert fewer
	// (inserts for a new resource also land at the end of the table).
	{
		`CREATE TEMP TABLE idx_token_old AS SELECT rid, type, param, system, code, text, type_system, type_code FROM idx_token`,
		`DELETE FROM idx_token`,
		`INSERT INTO idx_token (rowid, rid, type, param, system, code, text, type_system, type_code) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, system, code, text, type_system, type_code FROM idx_token_old`,
		`DROP TABLE idx_token_old`,
		`DROP INDEX idx_token_rid`,
		`CREATE TEMP TABLE idx_string_old AS SELECT rid, type, param, norm, exact FROM idx_string`,
		`DELETE FROM idx_string`,
		`INSERT INTO idx_string (rowid, rid, type, param, norm, exact) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, norm, exact FROM idx_string_old`,
		`DROP TABLE idx_string_old`,
		`DROP INDEX idx_string_rid`,
		`CREATE TEMP TABLE idx_date_old AS SELECT rid, type, param, lo, hi, multi FROM idx_date`,
		`DELETE FROM idx_date`,
		`INSERT INTO idx_date (rowid, rid, type, param, lo, hi, multi) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, lo, hi, multi FROM idx_date_old`,
		`DROP TABLE idx_date_old`,
		`DROP INDEX idx_date_rid`,
		`CREATE TEMP TABLE idx_number_old AS SELECT rid, type, param, num, lo, hi, system, code, unit, multi FROM idx_number`,
		`DELETE FROM idx_number`,
		`INSERT INTO idx_number (rowid, rid, type, param, num, lo, hi, system, code, unit, multi) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, num, lo, hi, system, code, unit, multi FROM idx_number_old`,
		`DROP TABLE idx_number_old`,
		`DROP INDEX idx_number_rid`,
		`CREATE TEMP TABLE idx_ref_old AS SELECT rid, type, param, ref_type, ref_id, url, version, system, code FROM idx_ref`,
		`DELETE FROM idx_ref`,
		`INSERT INTO idx_ref (rowid, rid, type, param, ref_type, ref_id, url, version, system, code) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, ref_type, ref_id, url, version, system, code FROM idx_ref_old`,
		`DROP TABLE idx_ref_old`,
		`DROP INDEX idx_ref_rid`,
		`CREATE TEMP TABLE idx_uri_old AS SELECT rid, type, param, uri FROM idx_uri`,
		`DELETE FROM idx_uri`,
		`INSERT INTO idx_uri (rowid, rid, type, param, uri) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, uri FROM idx_uri_old`,
		`DROP TABLE idx_uri_old`,
		`DROP INDEX idx_uri_rid`,
		`CREATE TEMP TABLE idx_composite_old AS SELECT rid, type, param, code1, parts FROM idx_composite`,
		`DELETE FROM idx_composite`,
		`INSERT INTO idx_composite (rowid, rid, type, param, code1, parts) SELECT rid * 65536 + row_number() OVER (PARTITION BY rid) - 1, rid, type, param, code1, parts FROM idx_composite_old`,
		`DROP TABLE idx_composite_old`,
		`DROP INDEX idx_composite_rid`,
	},
	// 5: the versions that hold Binary content, found by their blob, so
	// the blob sweeper can tell orphans; partial, as most versions have
	// none.
	{
		`CREATE INDEX resource_version_blob ON resource_version (blob_ref) WHERE blob_ref != ''`,
	},
	// 6: subscription delivery (store.Deliveries). resource_version is
	// the outbox: its seq orders every committed change, so the
	// dispatcher keeps only a cursor into it, and an event is a pointer
	// (the seq of the version it is about) with its number.
	{
		`CREATE TABLE sub_cursor (
			one INTEGER PRIMARY KEY CHECK (one = 1),
			seq INTEGER NOT NULL
		) STRICT`,
		`CREATE TABLE sub_state (
			sub_id    TEXT    PRIMARY KEY,
			version   INTEGER NOT NULL, -- the Subscription version last applied
			live      INTEGER NOT NULL, -- changes are matched against it
			events    INTEGER NOT NULL, -- number of the last event
			delivered INTEGER NOT NULL  -- number of the last event delivered
		) STRICT, WITHOUT ROWID`,
		`CREATE TABLE sub_event (
			sub_id TEXT    NOT NULL,
			number INTEGER NOT NULL,
			seq    INTEGER NOT NULL, -- resource_version.seq of the focus
			PRIMARY KEY (sub_id, number)
		) STRICT, WITHOUT ROWID`,
		// Whose grant wrote a Subscription version; digest is a hash of
		// the body, as the record is made before the commit.
		`CREATE TABLE sub_owner (
			sub_id  TEXT    NOT NULL,
			version INTEGER NOT NULL,
			digest  BLOB    NOT NULL,
			grant_data BLOB NOT NULL,
			PRIMARY KEY (sub_id, version, digest)
		) STRICT, WITHOUT ROWID`,
	},
	// 7: _id is searched on the resource row (its unique (type, id)
	// index); its index rows were one random B-tree insert per write.
	{
		`DELETE FROM idx_token WHERE param = '_id'`,
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
