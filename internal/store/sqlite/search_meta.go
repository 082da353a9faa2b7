package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/telederm/telederm/internal/store"
)

// storedTypes lists the resource types that have rows, one index seek per
// type (a skip scan of resource's (type, id) index) rather than a scan of
// every resource.
const storedTypes = `WITH RECURSIVE t(type) AS (
	SELECT MIN(type) FROM resource
	UNION ALL
	SELECT (SELECT MIN(type) FROM resource WHERE type > t.type) FROM t WHERE t.type IS NOT NULL
) SELECT type FROM t WHERE type IS NOT NULL`

// MetaInUse reads the distinct _tag and _security tokens and _profile uris
// of typ (or of each stored type) from the index. Index rows exist only for
// current, live versions, so nothing superseded or deleted is reported.
func (s *Store) MetaInUse(ctx context.Context, typ string) (store.MetaSummary, error) {
	var sum store.MetaSummary
	if err := s.gate.enter(); err != nil {
		return sum, err
	}
	defer s.gate.leave()
	// One snapshot for every list.
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return sum, fmt.Errorf("sqlite: meta in use: %w", err)
	}
	defer tx.Rollback() // read only
	types := []string{typ}
	if typ == "" {
		if types, err = queryStrings(ctx, tx, storedTypes); err != nil {
			return sum, fmt.Errorf("sqlite: meta in use: %w", err)
		}
	}
	tags, security := map[store.Coding]bool{}, map[store.Coding]bool{}
	profiles := map[string]bool{}
	for _, t := range types {
		// Both statements seek the (type, param, ...) indexes.
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT param, system, code FROM idx_token
			WHERE type = ? AND param IN ('_tag', '_security')`, t)
		if err != nil {
			return sum, fmt.Errorf("sqlite: meta in use: %w", err)
		}
		for rows.Next() {
			var param string
			var c store.Coding
			if err := rows.Scan(&param, &c.System, &c.Code); err != nil {
				rows.Close()
				return sum, fmt.Errorf("sqlite: meta in use: %w", err)
			}
			if param == "_tag" {
				tags[c] = true
			} else {
				security[c] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return sum, fmt.Errorf("sqlite: meta in use: %w", err)
		}
		uris, err := queryStrings(ctx, tx, `SELECT DISTINCT uri FROM idx_uri WHERE type = ? AND param = '_profile'`, t)
		if err != nil {
			return sum, fmt.Errorf("sqlite: meta in use: %w", err)
		}
		for _, u := range uris {
			profiles[u] = true
		}
	}
	for p := range profiles {
		sum.Profiles = append(sum.Profiles, p)
	}
	slices.Sort(sum.Profiles)
	sum.Tags, sum.Security = sortedCodings(tags), sortedCodings(security)
	return sum, nil
}

func queryStrings(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func sortedCodings(set map[store.Coding]bool) []store.Coding {
	out := make([]store.Coding, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b store.Coding) int {
		if c := strings.Compare(a.System, b.System); c != 0 {
			return c
		}
		return strings.Compare(a.Code, b.Code)
	})
	if len(out) == 0 {
		return nil
	}
	return out
}
