package sqlite

import (
	"context"
	"fmt"

	"github.com/telederm/telederm/internal/store"
)

// qChanges walks resource_version by its primary key (seq). One writer
// assigns seqs in commit order and readers see whole transactions, so a
// reader never sees a seq before a smaller one it has not seen.
const qChanges = `SELECT v.seq, r.type, r.id, ` + versionColumns + `
	FROM resource_version v JOIN resource r ON r.rid = v.rid
	WHERE v.seq > ? ORDER BY v.seq LIMIT ?`

// Changes returns the versions committed after seq after, oldest first.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Committed, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: changes limit %d, want at least 1", limit)
	}
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	rows, err := s.r.QueryContext(ctx, qChanges, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	defer rows.Close()
	var out []store.Committed
	for rows.Next() {
		var (
			c       store.Committed
			typ, id string
		)
		v, err := scanVersion(historyRow{rows, &c.Seq, &typ, &id}, "", "")
		if err != nil {
			return nil, fmt.Errorf("sqlite: changes: %w", err)
		}
		v.Type, v.ID = typ, id
		c.Version = *v
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	return out, nil
}

// CommitSignal returns a channel that is closed once a commit lands after
// the call: read Changes, then wait on the channel taken before reading.
func (s *Store) CommitSignal() <-chan struct{} { return s.signal.Wait() }
