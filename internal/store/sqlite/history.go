package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/telederm/telederm/internal/store"
)

// History returns versions newest first, in commit order (seq descending).
// An instance or type with no versions gives an empty page, not ErrNotFound.
func (s *Store) History(ctx context.Context, q store.HistoryQuery) (store.HistoryPage, error) {
	if q.Count < 1 {
		return store.HistoryPage{}, fmt.Errorf("sqlite: history page size %d, want at least 1", q.Count)
	}
	if q.ID != "" && q.Type == "" {
		return store.HistoryPage{}, errors.New("sqlite: history of an id needs its type")
	}
	before := int64(math.MaxInt64)
	if q.Cursor != "" {
		var err error
		if before, err = decodeCursor(q.Cursor); err != nil {
			return store.HistoryPage{}, err
		}
	}
	if err := s.gate.enter(); err != nil {
		return store.HistoryPage{}, err
	}
	defer s.gate.leave()

	stmt, args := s.rs.history(q, before)
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return store.HistoryPage{}, fmt.Errorf("sqlite: history: %w", err)
	}
	defer rows.Close()
	var page store.HistoryPage
	var seq int64
	for rows.Next() {
		if len(page.Versions) == q.Count {
			// The extra row only proves there is a next page.
			page.Next = encodeCursor(seq)
			break
		}
		var typ, id string
		v, err := scanVersion(historyRow{rows, &seq, &typ, &id}, "", "")
		if err != nil {
			return store.HistoryPage{}, fmt.Errorf("sqlite: history: %w", err)
		}
		v.Type, v.ID = typ, id
		page.Versions = append(page.Versions, *v)
	}
	if err := rows.Err(); err != nil {
		return store.HistoryPage{}, fmt.Errorf("sqlite: history: %w", err)
	}
	return page, nil
}

// history picks the prepared statement for the query's level and binds its
// arguments. A filter the query does not use gets a bound that every row
// passes, so three statements serve every combination of filters.
func (rs *readStmts) history(q store.HistoryQuery, before int64) (*sql.Stmt, []any) {
	since, atLo, atHi := int64(math.MinInt64), int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Since.IsZero() {
		since = toMicros(q.Since)
	}
	if !q.AtLo.IsZero() {
		atLo = toMicros(q.AtLo)
	}
	if !q.AtHi.IsZero() {
		atHi = toMicros(q.AtHi)
	}
	filters := []any{before, since, atHi, atLo, int64(q.Count) + 1}
	switch {
	case q.ID != "":
		return rs.historyInstance, append([]any{q.Type, q.ID}, filters...)
	case q.Type != "":
		return rs.historyType, append([]any{q.Type}, filters...)
	default:
		return rs.historySystem, filters
	}
}

// historyRow scans the leading seq, type and id columns of a history row,
// then hands the rest to scanVersion's destinations.
type historyRow struct {
	s       scanner
	seq     *int64
	typ, id *string
}

func (h historyRow) Scan(dest ...any) error {
	return h.s.Scan(append([]any{h.seq, h.typ, h.id}, dest...)...)
}
