package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// eventColumns are the columns scanRow reads, in its order.
const eventColumns = `seq, recorded, started, action, resource_type, status, client, subject, who,
	patient, source, request_id, detail, entities`

type scanner interface{ Scan(dest ...any) error }

func scanRow(s scanner) (auditstore.Row, error) {
	var r auditstore.Row
	var seq int64
	var ents string
	err := s.Scan(&seq, &r.Recorded, &r.Started, &r.Action, &r.Type, &r.Status, &r.Client, &r.Subject, &r.Who,
		&r.Patient, &r.Source, &r.RequestID, &r.Detail, &ents)
	if err != nil {
		return r, err
	}
	r.Key = seqKey(seq)
	if r.Entities, err = touched(ents); err != nil {
		return r, fmt.Errorf("event %d: entities: %w", seq, err)
	}
	return r, nil
}

// touched reads the entities column back.
func touched(entities string) ([]string, error) {
	if entities == "" {
		return nil, nil
	}
	var refs []string
	err := json.Unmarshal([]byte(entities), &refs)
	return refs, err
}

func (s *sqliteStore) Get(ctx context.Context, key string) (auditstore.Row, bool, error) {
	seq, ok := keySeq(key)
	if !ok {
		return auditstore.Row{}, false, nil
	}
	r, err := scanRow(s.r.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM event WHERE seq = ?", seq))
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}

// Page reads in (recorded, seq) order from after.
func (s *sqliteStore) Page(ctx context.Context, c auditstore.Cond, after *auditstore.Position, ascending bool, limit int) ([]auditstore.Row, error) {
	cond := sqlOf(c)
	order, cmp := "DESC", "<"
	if ascending {
		order, cmp = "ASC", ">"
	}
	q := "SELECT " + eventColumns + " FROM event e WHERE " + cond.sql
	args := append([]any(nil), cond.args...)
	if after != nil {
		seq, ok := keySeq(after.Key)
		if !ok {
			return nil, nil // not a position in this store: nothing follows it
		}
		q += " AND (e.recorded, e.seq) " + cmp + " (?, ?)"
		args = append(args, after.Recorded, seq)
	}
	q += " ORDER BY e.recorded " + order + ", e.seq " + order + " LIMIT ?"
	args = append(args, limit)
	rs, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []auditstore.Row
	for rs.Next() {
		r, err := scanRow(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

func (s *sqliteStore) Count(ctx context.Context, c auditstore.Cond) (int, error) {
	cond := sqlOf(c)
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM event e WHERE "+cond.sql, cond.args...).Scan(&n)
	return n, err
}

// where is a SQL condition on the event table (alias e) and its arguments.
type where struct {
	sql  string
	args []any
}

// sqlOf translates a condition into SQL.
func sqlOf(c auditstore.Cond) where {
	switch c.Kind {
	case auditstore.KindAll:
		return where{sql: "1"}
	case auditstore.KindNone:
		return where{sql: "0"}
	case auditstore.KindAnd, auditstore.KindOr:
		op := " AND "
		if c.Kind == auditstore.KindOr {
			op = " OR "
		}
		var parts []string
		var args []any
		for _, k := range c.Kids {
			w := sqlOf(k)
			parts = append(parts, w.sql)
			args = append(args, w.args...)
		}
		if len(parts) == 0 {
			return sqlOf(auditstore.Simplify(c))
		}
		return where{sql: "(" + strings.Join(parts, op) + ")", args: args}
	case auditstore.KindNot:
		w := sqlOf(c.Kids[0])
		return where{sql: "NOT (" + w.sql + ")", args: w.args}
	case auditstore.KindKey:
		seq, ok := keySeq(c.Values[0])
		if !ok {
			return where{sql: "0"}
		}
		return where{sql: "e.seq = ?", args: []any{seq}}
	case auditstore.KindRange:
		col := "e." + string(c.Field)
		switch {
		case c.Lo == math.MinInt64:
			return where{sql: col + " < ?", args: []any{c.Hi}}
		case c.Hi == math.MaxInt64:
			return where{sql: col + " >= ?", args: []any{c.Lo}}
		}
		return where{sql: "(" + col + " >= ? AND " + col + " < ?)", args: []any{c.Lo, c.Hi}}
	case auditstore.KindIn:
		if len(c.Values) == 1 {
			return where{sql: "e." + string(c.Field) + " = ?", args: []any{c.Values[0]}}
		}
		return where{sql: "e." + string(c.Field) + " IN (" + placeholders(len(c.Values)) + ")", args: strArgs(c.Values)}
	case auditstore.KindPrefix: // LIKE is case-insensitive for ASCII
		return where{sql: "e." + string(c.Field) + ` LIKE ? ESCAPE '\'`, args: []any{escapeLike(c.Values[0]) + "%"}}
	case auditstore.KindContains:
		return where{sql: "e." + string(c.Field) + ` LIKE ? ESCAPE '\'`, args: []any{"%" + escapeLike(c.Values[0]) + "%"}}
	case auditstore.KindRefers:
		return refersSQL(c.Values, c.Who)
	}
	panic(fmt.Sprintf("audit: condition kind %d", c.Kind))
}

// refersSQL matches the events whose ix rows have one of the keys ("e
// Type/id" for an entity, "w <who>" for a user), and among the events not
// folded into ix yet those whose columns say the same.
func refersSQL(entities, who []string) where {
	var keys, tailArgs []any
	var tail []string
	for _, ref := range entities {
		keys = append(keys, "e "+ref)
		tail = append(tail, "instr(entities, ?) > 0")
		tailArgs = append(tailArgs, `"`+ref+`"`)
		if p, ok := strings.CutPrefix(ref, "Patient/"); ok { // the patient in context is an entity too
			tail = append(tail, "patient = ?")
			tailArgs = append(tailArgs, p)
		}
	}
	for _, w := range who {
		keys = append(keys, "w "+w)
	}
	if len(who) > 0 {
		tail = append(tail, "who IN ("+placeholders(len(who))+")")
		tailArgs = append(tailArgs, strArgs(who)...)
	}
	if len(keys) == 0 {
		return where{sql: "0"}
	}
	return where{
		sql: "e.seq IN (SELECT seq FROM ix WHERE key IN (" + placeholders(len(keys)) + ")" +
			" UNION ALL SELECT seq FROM event WHERE seq > " + folded + " AND (" + strings.Join(tail, " OR ") + "))",
		args: append(keys, tailArgs...),
	}
}

func strArgs(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
