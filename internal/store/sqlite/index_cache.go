package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/telederm/telederm/internal/store"
)

// indexCache keeps the writer's prepared multi-row INSERT statements, by
// table and row count, across commits.
type indexCache struct {
	db *sql.DB // the writer

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newIndexCache(db *sql.DB) *indexCache {
	return &indexCache{db: db, stmts: map[string]*sql.Stmt{}}
}

// insertStmt returns the prepared statement for rows rows of table, which
// prepare must have made before the commit's transaction began: the writer
// has one connection, and the transaction holds it.
func (c *indexCache) insertStmt(table string, rows int) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[stmtKey(table, rows)]; ok {
		return st, nil
	}
	return nil, fmt.Errorf("no prepared insert of %d rows into %s", rows, table)
}

func stmtKey(table string, rows int) string { return fmt.Sprintf("%s/%d", table, rows) }

// prepareFor prepares the multi-row INSERTs the changes will need that are
// not prepared yet. It runs before the commit's transaction.
func (c *indexCache) prepareFor(ctx context.Context, changes []store.Change) error {
	for _, ch := range changes {
		perTable := map[string]int{}
		for _, e := range ch.Index {
			if t := tableOfEntry(e); t != "" {
				perTable[t]++
			}
		}
		for table, n := range perTable {
			for n > 0 {
				rows := min(n, maxRowsPerInsert)
				if err := c.prepare(ctx, table, rows); err != nil {
					return err
				}
				n -= rows
			}
		}
	}
	return nil
}

func (c *indexCache) prepare(ctx context.Context, table string, rows int) error {
	key := stmtKey(table, rows)
	c.mu.Lock()
	_, ok := c.stmts[key]
	c.mu.Unlock()
	if ok {
		return nil
	}
	cols := insertColumns[table]
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
	// Preparing waits for the writer connection, which a committing
	// transaction may hold while it reads the map: never hold mu here.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.stmts[key]; ok {
		return st.Close() // another commit prepared it meanwhile
	}
	c.stmts[key] = st
	return nil
}

// close releases the prepared statements.
func (c *indexCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for k, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, k)
	}
	return errors.Join(errs...)
}
