package audit

import (
	"context"
	"fmt"
)

// foldEvents is how many events the writer lets pass before it folds their
// users and resources into ix (sqliteStore.foldEvery, which tests lower).
// Searches read the events not yet folded directly, so this bounds their
// extra cost (a few milliseconds); folding many events at once writes each
// index page they land on once.
const foldEvents = 10000

// foldQuery adds the ix rows of the events after ?1 up to ?2, sorted, and
// moves the watermark.
const foldQuery = `INSERT OR IGNORE INTO ix (key, seq)
	SELECT 'e ' || j.value, e.seq FROM event e, json_each(e.entities) j
		WHERE e.seq > ?1 AND e.seq <= ?2 AND e.entities <> ''
	UNION ALL SELECT 'e Patient/' || patient, seq FROM event WHERE seq > ?1 AND seq <= ?2 AND patient <> ''
	UNION ALL SELECT 'w ' || who, seq FROM event WHERE seq > ?1 AND seq <= ?2 AND who <> ''
	ORDER BY 1, 2`

// folded is the watermark as SQL, for searches: events after it are not
// in ix yet.
const folded = `(SELECT value FROM meta WHERE key = 'folded')`

// fold indexes the events written since the last fold, in one
// transaction. A failure is logged and the events stay unfolded (still
// searched) for the next fold: nothing is lost.
func (s *sqliteStore) fold() {
	if s.lastSeq <= s.folded {
		return
	}
	if err := s.foldTx(context.Background(), s.folded, s.lastSeq); err != nil {
		s.log.Error("audit: indexing events failed; will retry", "err", err, "events", s.lastSeq-s.folded)
		s.foldNext = s.lastSeq + max(1, s.foldEvery/10)
		return
	}
	s.folded = s.lastSeq
	s.foldNext = s.folded + s.foldEvery
}

func (s *sqliteStore) foldTx(ctx context.Context, from, to int64) error {
	tx, err := s.wc.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // a no-op once committed
	if _, err := tx.ExecContext(ctx, foldQuery, from, to); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'folded'`, to); err != nil {
		return err
	}
	return tx.Commit()
}
