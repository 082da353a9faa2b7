package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/telederm/telederm/internal/store"
)

var _ store.Deliveries = (*Store)(nil)

// The delivery state lives in the tables of migration 6. Its writes run
// on the writer connection like commits do (database/sql hands the single
// connection to one transaction at a time), so they never meet
// SQLITE_BUSY; they are small and rare next to resource commits.

const (
	qSubState  = `SELECT sub_id, version, live, events, delivered FROM sub_state`
	qSubUpsert = `INSERT INTO sub_state (sub_id, version, live, events, delivered) VALUES (?, ?, ?, 0, 0)
		ON CONFLICT (sub_id) DO UPDATE SET version = excluded.version, live = excluded.live`
	qSubNext   = `UPDATE sub_state SET events = events + 1 WHERE sub_id = ? RETURNING events`
	qEventAdd  = `INSERT INTO sub_event (sub_id, number, seq) VALUES (?, ?, ?)`
	qCursor    = `SELECT seq FROM sub_cursor WHERE one = 1`
	qCursorSet = `INSERT INTO sub_cursor (one, seq) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET seq = excluded.seq`
	qDelivered = `UPDATE sub_state SET delivered = ? WHERE sub_id = ? AND delivered < ?`
	qOwnerAdd  = `INSERT OR REPLACE INTO sub_owner (sub_id, version, digest, grant_data) VALUES (?, ?, ?, ?)`
	qOwners    = `SELECT version, digest, grant_data FROM sub_owner WHERE sub_id = ? ORDER BY version DESC`
	qSubEvents = `SELECT e.number, e.seq, r.type, r.id, ` + versionColumns + `
		FROM sub_event e JOIN resource_version v ON v.seq = e.seq JOIN resource r ON r.rid = v.rid
		WHERE e.sub_id = ? AND e.number BETWEEN ? AND ? ORDER BY e.number LIMIT ?`
	qSubProgress = qSubState + ` WHERE sub_id = ?`
)

// LoadDispatch returns the cursor and every subscription's state.
func (s *Store) LoadDispatch(ctx context.Context) (int64, []store.SubscriptionState, error) {
	if err := s.gate.enter(); err != nil {
		return 0, nil, err
	}
	defer s.gate.leave()
	var cursor int64
	err := s.r.QueryRowContext(ctx, qCursor).Scan(&cursor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("sqlite: read dispatch cursor: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, qSubState)
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: read subscriptions: %w", err)
	}
	defer rows.Close()
	var subs []store.SubscriptionState
	for rows.Next() {
		var st store.SubscriptionState
		if err := rows.Scan(&st.ID, &st.Version, &st.Live, &st.Events, &st.Delivered); err != nil {
			return 0, nil, fmt.Errorf("sqlite: read subscriptions: %w", err)
		}
		subs = append(subs, st)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("sqlite: read subscriptions: %w", err)
	}
	return cursor, subs, nil
}

// Dispatch records one dispatcher step in one transaction.
func (s *Store) Dispatch(ctx context.Context, d store.Dispatch) error {
	return s.writeTx(ctx, "dispatch", func(ctx context.Context, tx *sql.Tx) error {
		var have int64
		err := tx.QueryRowContext(ctx, qCursor).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if d.Cursor < have {
			return fmt.Errorf("cursor %d is behind the recorded %d", d.Cursor, have)
		}
		for _, st := range d.Subscriptions {
			if _, err := tx.ExecContext(ctx, qSubUpsert, st.ID, st.Version, st.Live); err != nil {
				return fmt.Errorf("subscription %s: %w", st.ID, err)
			}
		}
		for _, ev := range d.Events {
			var n int64
			err := tx.QueryRowContext(ctx, qSubNext, ev.Subscription).Scan(&n)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("event for unknown subscription %s", ev.Subscription)
			}
			if err != nil {
				return fmt.Errorf("number an event of %s: %w", ev.Subscription, err)
			}
			if _, err := tx.ExecContext(ctx, qEventAdd, ev.Subscription, n, ev.Seq); err != nil {
				return fmt.Errorf("event %d of %s: %w", n, ev.Subscription, err)
			}
		}
		_, err = tx.ExecContext(ctx, qCursorSet, d.Cursor)
		return err
	})
}

// Progress returns one subscription's state.
func (s *Store) Progress(ctx context.Context, sub string) (store.SubscriptionState, error) {
	if err := s.gate.enter(); err != nil {
		return store.SubscriptionState{}, err
	}
	defer s.gate.leave()
	var st store.SubscriptionState
	err := s.r.QueryRowContext(ctx, qSubProgress, sub).Scan(&st.ID, &st.Version, &st.Live, &st.Events, &st.Delivered)
	if errors.Is(err, sql.ErrNoRows) {
		return st, store.ErrNotFound
	}
	if err != nil {
		return st, fmt.Errorf("sqlite: subscription %s: %w", sub, err)
	}
	return st, nil
}

// Events returns a subscription's events numbered from..to.
func (s *Store) Events(ctx context.Context, sub string, from, to int64, limit int) ([]store.QueuedEvent, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: events limit %d, want at least 1", limit)
	}
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	rows, err := s.r.QueryContext(ctx, qSubEvents, sub, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events of %s: %w", sub, err)
	}
	defer rows.Close()
	var out []store.QueuedEvent
	for rows.Next() {
		var (
			ev      store.QueuedEvent
			typ, id string
		)
		v, err := scanVersion(eventRow{rows, &ev.Number, &ev.Seq, &typ, &id}, "", "")
		if err != nil {
			return nil, fmt.Errorf("sqlite: events of %s: %w", sub, err)
		}
		v.Type, v.ID = typ, id
		ev.Version = *v
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events of %s: %w", sub, err)
	}
	return out, nil
}

// eventRow scans the leading number, seq, type and id of an event row.
type eventRow struct {
	s           scanner
	number, seq *int64
	typ, id     *string
}

func (e eventRow) Scan(dest ...any) error {
	return e.s.Scan(append([]any{e.number, e.seq, e.typ, e.id}, dest...)...)
}

// MarkDelivered raises a subscription's delivered number.
func (s *Store) MarkDelivered(ctx context.Context, sub string, number int64) error {
	return s.writeTx(ctx, "mark delivered", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, qDelivered, number, sub, number)
		return err
	})
}

// MarkSocketDelivered is MarkDelivered: the embedded store has one
// process, whose websocket deliveries are the only ones.
func (s *Store) MarkSocketDelivered(ctx context.Context, sub, _ string, number int64) error {
	return s.MarkDelivered(ctx, sub, number)
}

// SaveOwner records who wrote a subscription version.
func (s *Store) SaveOwner(ctx context.Context, sub string, o store.Owner) error {
	return s.writeTx(ctx, "save owner", func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, qOwnerAdd, sub, o.Version, o.Digest, o.Grant)
		return err
	})
}

// Owners returns a subscription's owner records, newest version first.
func (s *Store) Owners(ctx context.Context, sub string) ([]store.Owner, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	rows, err := s.r.QueryContext(ctx, qOwners, sub)
	if err != nil {
		return nil, fmt.Errorf("sqlite: owners of %s: %w", sub, err)
	}
	defer rows.Close()
	var out []store.Owner
	for rows.Next() {
		var o store.Owner
		if err := rows.Scan(&o.Version, &o.Digest, &o.Grant); err != nil {
			return nil, fmt.Errorf("sqlite: owners of %s: %w", sub, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: owners of %s: %w", sub, err)
	}
	return out, nil
}

// writeTx runs f in a transaction on the writer connection. Like commits,
// it is not interrupted by ctx once begun: it is short, and cancelling
// mid-way would only roll it back.
func (s *Store) writeTx(ctx context.Context, what string, f func(context.Context, *sql.Tx) error) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: begin: %w", what, err)
	}
	defer tx.Rollback() // a no-op once committed
	if err := f(context.Background(), tx); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: commit: %w", what, err)
	}
	return nil
}
