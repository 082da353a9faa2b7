package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// The index tables, one per kind of value (schema migration 2).
var indexTables = []string{"idx_token", "idx_string", "idx_date", "idx_number", "idx_ref", "idx_uri", "idx_composite"}

const (
	qInsToken     = `INSERT INTO idx_token (rid, type, param, system, code, text, type_system, type_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qInsString    = `INSERT INTO idx_string (rid, type, param, norm, exact) VALUES (?, ?, ?, ?, ?)`
	qInsDate      = `INSERT INTO idx_date (rid, type, param, lo, hi) VALUES (?, ?, ?, ?, ?)`
	qInsNumber    = `INSERT INTO idx_number (rid, type, param, num, lo, hi, system, code, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsRef       = `INSERT INTO idx_ref (rid, type, param, ref_type, ref_id, url, version, system, code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsURI       = `INSERT INTO idx_uri (rid, type, param, uri) VALUES (?, ?, ?, ?)`
	qInsComposite = `INSERT INTO idx_composite (rid, type, param, code1, parts) VALUES (?, ?, ?, ?, ?)`
)

// indexStmts are the writer's statements that keep the index tables.
type indexStmts struct {
	del                                           []*sql.Stmt // one per index table, in indexTables order
	token, str, date, number, ref, uri, composite *sql.Stmt
}

func (s *indexStmts) all() []**sql.Stmt {
	if s.del == nil {
		s.del = make([]*sql.Stmt, len(indexTables))
	}
	out := make([]**sql.Stmt, 0, len(indexTables)+7)
	for i := range s.del {
		out = append(out, &s.del[i])
	}
	return append(out, &s.token, &s.str, &s.date, &s.number, &s.ref, &s.uri, &s.composite)
}

func indexQueries() []string {
	out := make([]string, 0, len(indexTables)+7)
	for _, t := range indexTables {
		out = append(out, "DELETE FROM "+t+" WHERE rid = ?")
	}
	return append(out, qInsToken, qInsString, qInsDate, qInsNumber, qInsRef, qInsURI, qInsComposite)
}

func (s *indexStmts) in(ctx context.Context, tx *sql.Tx) indexStmts {
	out := indexStmts{del: make([]*sql.Stmt, len(s.del))}
	for i, st := range s.del {
		out.del[i] = tx.StmtContext(ctx, st)
	}
	out.token = tx.StmtContext(ctx, s.token)
	out.str = tx.StmtContext(ctx, s.str)
	out.date = tx.StmtContext(ctx, s.date)
	out.number = tx.StmtContext(ctx, s.number)
	out.ref = tx.StmtContext(ctx, s.ref)
	out.uri = tx.StmtContext(ctx, s.uri)
	out.composite = tx.StmtContext(ctx, s.composite)
	return out
}

// replace drops the previous version's entries and writes the new ones, in
// the commit's transaction, so a search never sees a resource half indexed.
func (s indexStmts) replace(ctx context.Context, rid int64, existed bool, c store.Change) error {
	if existed {
		for i, st := range s.del {
			if _, err := st.ExecContext(ctx, rid); err != nil {
				return fmt.Errorf("clear %s: %w", indexTables[i], err)
			}
		}
	}
	for _, e := range c.Index {
		if err := s.insert(ctx, rid, c.Type, e); err != nil {
			return fmt.Errorf("%s entry of %s: %w", e.Kind, e.Param, err)
		}
	}
	return nil
}

func (s indexStmts) insert(ctx context.Context, rid int64, typ string, e search.Entry) error {
	var err error
	switch e.Kind {
	case search.Token:
		_, err = s.token.ExecContext(ctx, rid, typ, e.Param, e.System, e.Code, e.Text, e.TypeSystem, e.TypeCode)
	case search.String:
		_, err = s.str.ExecContext(ctx, rid, typ, e.Param, e.Text, e.Exact)
	case search.Date:
		_, err = s.date.ExecContext(ctx, rid, typ, e.Param, e.Lo, e.Hi)
	case search.Number, search.Quantity:
		_, err = s.number.ExecContext(ctx, rid, typ, e.Param, e.Num, e.NumLo, e.NumHi, e.System, e.Code, e.Text)
	case search.Reference:
		_, err = s.ref.ExecContext(ctx, rid, typ, e.Param, e.RefType, e.RefID, e.URL, e.Version, e.System, e.Code)
	case search.URI:
		_, err = s.uri.ExecContext(ctx, rid, typ, e.Param, e.URL)
	case search.Composite:
		if len(e.Parts) == 0 {
			return fmt.Errorf("composite without parts")
		}
		parts, merr := json.Marshal(e.Parts)
		if merr != nil {
			return merr
		}
		_, err = s.composite.ExecContext(ctx, rid, typ, e.Param, e.Parts[0].Code, string(parts))
	default:
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	return err
}
