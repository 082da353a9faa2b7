package audit

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// insertEvent is the writer's statement, one row per event. Inserting a
// batch from one JSON array (json_each) was measured slower: extracting
// the columns cost SQLite more than binding them one by one.
const insertEvent = `INSERT INTO event (recorded, started, action, resource_type, status, client, subject, who,
	patient, source, request_id, detail, entities) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`

// insertColumns is how many values insertEvent takes (Append's list).
const insertColumns = 13

// prepareInsert prepares insertEvent on the writer's connection at the
// driver level. database/sql checks and converts every argument and takes
// its locks on each Exec; for a dozen arguments per event that was a
// quarter of the writer's time.
func (s *sqliteStore) prepareInsert(ctx context.Context) error {
	return s.wc.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("audit: the SQLite driver does not prepare with a context")
		}
		st, err := p.PrepareContext(ctx, insertEvent)
		if err != nil {
			return fmt.Errorf("audit: prepare: %w", err)
		}
		ins, ok := st.(driver.StmtExecContext)
		if !ok || st.NumInput() != insertColumns {
			return errors.Join(fmt.Errorf("audit: the SQLite driver cannot run the insert statement as written"), st.Close())
		}
		s.ins = ins
		s.args = make([]driver.NamedValue, st.NumInput())
		for i := range s.args {
			s.args[i].Ordinal = i + 1
		}
		return nil
	})
}

// Append commits the rows in one transaction (all or none, so a retried
// batch is written once), setting their keys, and folds the events into ix
// when enough have passed since the last fold.
func (s *sqliteStore) Append(_ context.Context, rows []auditstore.Row) error {
	if err := s.write(rows); err != nil {
		return err
	}
	if s.lastSeq >= s.foldNext {
		s.fold()
	}
	return nil
}

func (s *sqliteStore) write(rows []auditstore.Row) error {
	var ents []byte // reused for each row's JSON array
	return s.wc.Raw(func(dc any) error {
		ctx := context.Background() // no cancellation: the driver then runs each statement in place
		begin, ok := dc.(driver.ConnBeginTx)
		if !ok {
			return fmt.Errorf("the SQLite driver does not begin with options")
		}
		tx, err := begin.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		last := s.lastSeq
		for i := range rows {
			r := &rows[i]
			ents = entitiesJSON(ents[:0], r.Entities)
			for j, v := range [insertColumns]any{r.Recorded, r.Started, r.Action, r.Type, int64(r.Status), r.Client, r.Subject, r.Who,
				r.Patient, r.Source, r.RequestID, r.Detail, string(ents)} {
				s.args[j].Value = v
			}
			res, err := s.ins.ExecContext(ctx, s.args)
			if err == nil {
				last, err = res.LastInsertId()
				r.Key = seqKey(last) // kept once the transaction commits; a retry sets it again
			}
			if err != nil {
				return errors.Join(fmt.Errorf("insert event: %w", err), tx.Rollback())
			}
		}
		for j := range s.args { // drop the last event's strings
			s.args[j].Value = nil
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		s.lastSeq = last
		return nil
	})
}

// entitiesJSON appends the entities column: a JSON array of the Type/ids
// touched, or nothing for none.
func entitiesJSON(b []byte, refs []string) []byte {
	if len(refs) == 0 {
		return b
	}
	b = append(b, '[')
	for i, ref := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"') // a Type/id needs no escaping
		b = append(b, ref...)
		b = append(b, '"')
	}
	return append(b, ']')
}
