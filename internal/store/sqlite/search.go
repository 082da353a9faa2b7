package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// Include limits: :iterate follows at most this many rounds, and one page
// brings in at most this many resources, so a cyclic graph cannot run away.
const (
	maxIncludeRounds = 4
	maxIncluded      = 5000
)

// Search answers q from the index tables. Pages are keyset-paged on the sort
// keys and the rid, so a next link stays valid, and shows every match once,
// while others write.
func (s *Store) Search(ctx context.Context, q *search.Query) (store.SearchPage, error) {
	if err := s.gate.enter(); err != nil {
		return store.SearchPage{}, err
	}
	defer s.gate.leave()
	page := store.SearchPage{Total: -1}

	var b sqlBuilder
	where, err := b.where(q, "r")
	if err != nil {
		return page, fmt.Errorf("%w: %v", store.ErrNotSupported, err)
	}
	keys, err := sortKeys(q.Sort, "r")
	if err != nil {
		return page, fmt.Errorf("%w: %v", store.ErrNotSupported, err)
	}
	fingerprint := queryFingerprint(where, keys, b.args)

	// One read transaction: the count, the page, the versions loaded for it
	// and the includes all see the same snapshot, so a commit between them
	// cannot put a tombstone, or a version that no longer matches, on the
	// page.
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return page, fmt.Errorf("sqlite: search: %w", err)
	}
	defer tx.Rollback() // read only: nothing to commit

	if q.Total == "accurate" || q.Total == "estimate" || q.Count == 0 {
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM resource r WHERE "+where, b.args...).Scan(&page.Total); err != nil {
			return page, fmt.Errorf("sqlite: count: %w", err)
		}
	}
	if q.Count == 0 {
		return page, nil
	}

	var found [][]any // rid then the sort keys, up to q.Count+1 rows
	if dk, ok := singleDateSort(q); ok {
		// The page walks the date index and tests each resource it meets,
		// so its conditions are rendered per resource.
		cb := sqlBuilder{correlated: true}
		var cwhere string
		if cwhere, err = cb.where(q, "r"); err == nil {
			found, err = datePage(ctx, tx, cwhere, cb.args, dk, q.Cursor, fingerprint, q.Count+1)
		}
	} else {
		var sqlText string
		var args []any
		if sqlText, args, err = pageSQL(where, b.args, keys, q.Cursor, fingerprint, q.Count); err == nil {
			found, err = queryRows(ctx, tx, len(keys)+1, sqlText, args...)
		}
	}
	if err != nil {
		return page, err
	}
	var rids []int64
	var last []any
	for _, vals := range found {
		if len(rids) == q.Count { // the extra row: another page follows
			page.Next = encodeSearchCursor(fingerprint, last)
			break
		}
		rids = append(rids, vals[0].(int64))
		last = append(vals[1:], vals[0])
	}
	if page.Total < 0 && q.Cursor == "" && page.Next == "" {
		page.Total = len(rids) // everything fits on the first page
	}
	if page.Matches, err = loadCurrent(ctx, tx, rids); err != nil {
		return page, err
	}
	if len(q.Include) > 0 || len(q.RevInclude) > 0 {
		if page.Included, err = includes(ctx, tx, q, rids); err != nil {
			return page, err
		}
	}
	return page, nil
}

// queryRows runs a page query and returns its rows of width values
// (strings for text, so cursor values survive JSON).
func queryRows(ctx context.Context, tx *sql.Tx, width int, query string, args ...any) ([][]any, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, width)
		ptrs := make([]any, width)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("sqlite: search: %w", err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", err)
	}
	return out, nil
}

// sortKey is one ORDER BY expression over a resource row.
type sortKey struct {
	expr string
	desc bool
}

// sortKeys turns _sort into expressions. A resource without a value for a
// key sorts as the lowest value (first ascending, last descending); ties
// fall back to rid, so the order is total and pages are stable.
func sortKeys(keys []search.SortKey, r string) ([]sortKey, error) {
	out := make([]sortKey, 0, len(keys))
	for _, k := range keys {
		if k.Param == nil {
			return nil, fmt.Errorf("sort key without a parameter")
		}
		agg := "MIN"
		if k.Descending {
			agg = "MAX"
		}
		if isID(k.Param) {
			out = append(out, sortKey{expr: r + ".id", desc: k.Descending})
			continue
		}
		var col, table, sentinel string
		switch k.Param.Type {
		case search.String:
			col, table, sentinel = "norm", "idx_string", "''"
		case search.Token:
			col, table, sentinel = "code", "idx_token", "''"
		case search.Date:
			col, table, sentinel = "lo", "idx_date", fmt.Sprint(int64(math.MinInt64))
		case search.Number, search.Quantity:
			col, table, sentinel = "num", "idx_number", "-1e308"
		case search.Reference:
			col, table, sentinel = "ref_type || '/' || ref_id", "idx_ref", "''"
		case search.URI:
			col, table, sentinel = "uri", "idx_uri", "''"
		default:
			return nil, fmt.Errorf("cannot sort on %s parameter %s", k.Param.Type, k.Param.Code)
		}
		// The parameter codes and types are the registry's, never user
		// text. A string or token parameter's values may be stored under
		// narrower ones (search.Sources).
		literal := func(v any) string { return "'" + strings.ReplaceAll(v.(string), "'", "''") + "'" }
		cond := "param = " + literal(k.Param.Code)
		if k.Param.Type == search.String || k.Param.Type == search.Token {
			cond = sourcesCond(k.Param.Type, "", k.Param.Code, literal)
		}
		expr := fmt.Sprintf("COALESCE((SELECT %s(%s) FROM %s s WHERE %s AND %s), %s)",
			agg, col, table, rowsOf("s", r+".rid"), cond, sentinel)
		out = append(out, sortKey{expr: expr, desc: k.Descending})
	}
	return out, nil
}

// pageSQL selects one page (count+1 rows) after the cursor.
func pageSQL(where string, whereArgs []any, keys []sortKey, cursor, fingerprint string, count int) (string, []any, error) {
	args := append([]any(nil), whereArgs...)
	cols := []string{"r.rid"}
	order := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		cols = append(cols, k.expr)
		dir := ""
		if k.desc {
			dir = " DESC"
		}
		order = append(order, k.expr+dir)
	}
	order = append(order, "r.rid")
	if cursor != "" {
		last, err := decodeSearchCursor(cursor, fingerprint, len(keys)+1)
		if err != nil {
			return "", nil, err
		}
		all := append(append([]sortKey(nil), keys...), sortKey{expr: "r.rid"})
		var ors []string
		for i := range all {
			var ands []string
			for j := 0; j < i; j++ {
				ands = append(ands, all[j].expr+" = ?")
				args = append(args, last[j])
			}
			op := " > ?"
			if all[i].desc {
				op = " < ?"
			}
			ands = append(ands, all[i].expr+op)
			args = append(args, last[i])
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
		}
		where += " AND (" + strings.Join(ors, " OR ") + ")"
	}
	args = append(args, count+1)
	return "SELECT " + strings.Join(cols, ", ") + " FROM resource r WHERE " + where +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ?", args, nil
}

// queryFingerprint ties a cursor to the query that made it.
func queryFingerprint(where string, keys []sortKey, args []any) string {
	h := fnv.New64a()
	fmt.Fprint(h, where)
	for _, k := range keys {
		fmt.Fprint(h, k.expr, k.desc)
	}
	for _, a := range args {
		fmt.Fprintf(h, "|%v", a)
	}
	return fmt.Sprintf("%x", h.Sum64())
}

type searchCursor struct {
	Q    string `json:"q"`
	Last []any  `json:"k"`
}

func encodeSearchCursor(fingerprint string, last []any) string {
	b, _ := json.Marshal(searchCursor{Q: fingerprint, Last: last})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(c, fingerprint string, n int) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", store.ErrBadCursor)
	}
	var sc searchCursor
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&sc); err != nil || sc.Q != fingerprint || len(sc.Last) != n {
		return nil, fmt.Errorf("%w: not a cursor of this search", store.ErrBadCursor)
	}
	for i, v := range sc.Last {
		if num, ok := v.(json.Number); ok {
			if iv, err := num.Int64(); err == nil {
				sc.Last[i] = iv
			} else if fv, err := num.Float64(); err == nil {
				sc.Last[i] = fv
			}
		}
	}
	return sc.Last, nil
}

// loadCurrent reads the current versions of rids, in the order given.
func loadCurrent(ctx context.Context, tx *sql.Tx, rids []int64) ([]store.Version, error) {
	if len(rids) == 0 {
		return nil, nil
	}
	ph, args := inList(rids)
	rows, err := tx.QueryContext(ctx, `SELECT r.rid, r.type, r.id, `+versionColumns+`
		FROM resource r JOIN resource_version v ON v.seq = r.seq WHERE r.rid IN (`+ph+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load results: %w", err)
	}
	defer rows.Close()
	byRID := make(map[int64]store.Version, len(rids))
	for rows.Next() {
		var rid int64
		var typ, id string
		v, err := scanVersionWith(rows, &rid, &typ, &id)
		if err != nil {
			return nil, fmt.Errorf("sqlite: load results: %w", err)
		}
		byRID[rid] = *v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load results: %w", err)
	}
	out := make([]store.Version, 0, len(rids))
	for _, rid := range rids {
		if v, ok := byRID[rid]; ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func inList(rids []int64) (string, []any) {
	ph := strings.Repeat("?, ", len(rids))
	args := make([]any, len(rids))
	for i, r := range rids {
		args[i] = r
	}
	return ph[:len(ph)-2], args
}

// includes follows _include and _revinclude from the page's matches, and
// :iterate ones from what they bring in, each resource once.
func includes(ctx context.Context, tx *sql.Tx, q *search.Query, matches []int64) ([]store.Version, error) {
	seen := make(map[int64]bool, len(matches))
	for _, rid := range matches {
		seen[rid] = true
	}
	var added []int64
	frontier := matches
	for round := 0; round <= maxIncludeRounds && len(frontier) > 0; round++ {
		var next []int64
		for _, inc := range q.Include {
			if round > 0 && !inc.Iterate {
				continue
			}
			found, err := follow(ctx, tx, inc, frontier, false)
			if err != nil {
				return nil, err
			}
			next = appendNew(next, found, seen)
		}
		for _, inc := range q.RevInclude {
			if round > 0 && !inc.Iterate {
				continue
			}
			found, err := follow(ctx, tx, inc, frontier, true)
			if err != nil {
				return nil, err
			}
			next = appendNew(next, found, seen)
		}
		added = append(added, next...)
		if len(added) >= maxIncluded {
			added = added[:maxIncluded]
			break
		}
		frontier = next
	}
	return loadCurrent(ctx, tx, added)
}

func appendNew(dst, found []int64, seen map[int64]bool) []int64 {
	for _, rid := range found {
		if !seen[rid] {
			seen[rid] = true
			dst = append(dst, rid)
		}
	}
	return dst
}

// follow returns the rids an include reaches from rids: the targets of
// their references (_include) or the resources referring to them
// (_revinclude).
func follow(ctx context.Context, tx *sql.Tx, inc search.Include, rids []int64, reverse bool) ([]int64, error) {
	ph, args := inList(rids)
	var w []string
	if inc.SourceType != "" && inc.SourceType != "*" {
		w = append(w, "f.type = ?")
		args = append(args, inc.SourceType)
	}
	if !inc.Wildcard && inc.Param != nil {
		w = append(w, "f.param = ?")
		args = append(args, inc.Param.Code)
	}
	var sqlText string
	if reverse {
		if inc.TargetType != "" {
			w = append(w, "t.type = ?")
			args = append(args, inc.TargetType)
		}
		sqlText = `SELECT DISTINCT f.rid FROM idx_ref f
			JOIN resource t ON t.type = f.ref_type AND t.id = f.ref_id
			JOIN resource src ON src.rid = f.rid
			WHERE t.rid IN (` + ph + `) AND src.deleted = 0`
	} else {
		if inc.TargetType != "" {
			w = append(w, "t.type = ?")
			args = append(args, inc.TargetType)
		}
		// The page's resources p, then their reference rows f by rowid
		// range: CROSS JOIN keeps that order, which the planner would
		// otherwise trade for the (type, param) index over every
		// reference of the type (80 ms for a worklist page's subjects).
		sqlText = `SELECT DISTINCT t.rid FROM resource p
			CROSS JOIN idx_ref f ON ` + rowsOf("f", "p.rid") + `
			CROSS JOIN resource t ON t.type = f.ref_type AND t.id = f.ref_id
			WHERE p.rid IN (` + ph + `) AND t.deleted = 0`
		// The source's type and param must not pull in the (type, param)
		// index either: unary + keeps them plain filters.
		for i, c := range w {
			if strings.HasPrefix(c, "f.") {
				w[i] = "+" + c
			}
		}
	}
	for _, c := range w {
		sqlText += " AND " + c
	}
	rows, err := tx.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: include: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var rid int64
		if err := rows.Scan(&rid); err != nil {
			return nil, err
		}
		out = append(out, rid)
	}
	return out, rows.Err()
}
