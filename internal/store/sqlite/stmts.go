package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The hot paths run as prepared statements. Current and Version find the
// resource row by its unique (type, id) index and then one version row by
// primary key or by (rid, version): never a history scan. They are written
// as scalar subqueries rather than joins because SQLite marks the join form
// as re-plannable on every new binding, and mattn/go-sqlite3 (which clears
// bindings on every call) then re-prepares it each time.
const (
	versionColumns = `v.version, v.last_updated, v.method, v.deleted, v.body, v.blob_ref`

	qCurrent = `SELECT ` + versionColumns + ` FROM resource_version v
		WHERE v.seq = (SELECT seq FROM resource WHERE type = ? AND id = ?)`
	qVersion = `SELECT ` + versionColumns + ` FROM resource_version v
		WHERE v.rid = (SELECT rid FROM resource WHERE type = ? AND id = ?) AND v.version = ?`

	// History reads one page, Count+1 rows so the page knows whether
	// another follows. Each level walks an index in seq order (the rowid,
	// (type, seq) or (rid, seq)) and stops at the LIMIT. The filters are, in
	// order: below the cursor's seq, written at or after _since, and current
	// at some moment of [AtLo, AtHi) (written before AtHi, superseded after
	// AtLo or never). Their range and LIMIT parameters make mattn re-prepare
	// these on every call (about 35µs); history is rare enough to pay it.
	historySelect = `SELECT v.seq, r.type, r.id, ` + versionColumns + `
		FROM resource_version v JOIN resource r ON r.rid = v.rid WHERE `
	historyFilters = ` v.seq < ? AND v.last_updated >= ? AND v.last_updated < ?
		AND (v.superseded_at IS NULL OR v.superseded_at > ?)
		ORDER BY v.seq DESC LIMIT ?`
	qHistoryInstance = historySelect + `r.type = ? AND r.id = ? AND` + historyFilters
	qHistoryType     = historySelect + `v.type = ? AND` + historyFilters
	qHistorySystem   = historySelect + historyFilters

	qLookup         = `SELECT rid, version, seq FROM resource WHERE type = ? AND id = ?`
	qInsertResource = `INSERT INTO resource (type, id, version, seq) VALUES (?, ?, ?, 0)`
	qSupersede      = `UPDATE resource_version SET superseded_at = ? WHERE seq = ?`
	qInsertVersion  = `INSERT INTO resource_version
		(rid, type, version, last_updated, method, deleted, body, blob_ref)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qSetCurrent = `UPDATE resource SET version = ?, seq = ?, deleted = ? WHERE rid = ?`
)

type readStmts struct {
	current, version                            *sql.Stmt
	historyInstance, historyType, historySystem *sql.Stmt
}

type writeStmts struct {
	lookup, insertResource, supersede, insertVersion, setCurrent *sql.Stmt
	index                                                        indexStmts
}

func (s *readStmts) all() []**sql.Stmt {
	return []**sql.Stmt{&s.current, &s.version, &s.historyInstance, &s.historyType, &s.historySystem}
}

func (s *writeStmts) all() []**sql.Stmt {
	return append([]**sql.Stmt{&s.lookup, &s.insertResource, &s.supersede, &s.insertVersion, &s.setCurrent}, s.index.all()...)
}

// writeQueries lists the writer's statements in the order of all().
func writeQueries() []string {
	return append([]string{qLookup, qInsertResource, qSupersede, qInsertVersion, qSetCurrent}, indexQueries()...)
}

func prepare(ctx context.Context, db *sql.DB, dst []**sql.Stmt, queries ...string) error {
	for i, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		*dst[i] = st
	}
	return nil
}

func closeStmts(dst []**sql.Stmt) error {
	var errs []error
	for _, p := range dst {
		if *p != nil {
			errs = append(errs, (*p).Close())
			*p = nil
		}
	}
	return errors.Join(errs...)
}
