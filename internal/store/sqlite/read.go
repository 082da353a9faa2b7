package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// Current returns the current version of a resource, tombstones included.
func (s *Store) Current(ctx context.Context, typ, id string) (*store.Version, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if v, ok := s.cache.get(typ, id); ok {
		return v, nil
	}
	epoch := s.cache.begin()
	v, err := scanVersion(s.rs.current.QueryRowContext(ctx, typ, id), typ, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s/%s: %w", typ, id, err)
	}
	s.cache.put(epoch, v)
	return v, nil
}

// Version returns one version of a resource.
func (s *Store) Version(ctx context.Context, typ, id string, version int64) (*store.Version, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	v, err := scanVersion(s.rs.version.QueryRowContext(ctx, typ, id, version), typ, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read %s/%s version %d: %w", typ, id, version, err)
	}
	return v, nil
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

// scanVersion reads the versionColumns of one row.
func scanVersion(row scanner, typ, id string) (*store.Version, error) {
	return scanVersionWith(row, nil, &typ, &id)
}

// scanVersionWith reads rid, type and id (when rid is not nil) and then the
// versionColumns of one row.
func scanVersionWith(row scanner, rid *int64, typ, id *string) (*store.Version, error) {
	v := &store.Version{}
	var lastUpdated int64
	var method string
	dest := []any{&v.VersionID, &lastUpdated, &method, &v.Deleted, &v.Body, &v.BlobRef}
	if rid != nil {
		dest = append([]any{rid, typ, id}, dest...)
	}
	err := row.Scan(dest...)
	v.Type, v.ID = *typ, *id
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v.LastUpdated = fromMicros(lastUpdated)
	v.Method = store.Method(method)
	return v, nil
}

// Times are stored as integer microseconds since the Unix epoch: they sort
// and compare as numbers and hold the millisecond meta.lastUpdated exactly.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

const qBlobReferenced = `SELECT 1 FROM resource_version WHERE blob_ref = ? AND blob_ref != '' LIMIT 1`

// BlobReferenced answers from the partial index on resource_version's
// blob_ref (migration 5); the repeated condition lets the planner use it.
func (s *Store) BlobReferenced(ctx context.Context, ref string) (bool, error) {
	if err := s.gate.enter(); err != nil {
		return false, err
	}
	defer s.gate.leave()
	var one int
	err := s.r.QueryRowContext(ctx, qBlobReferenced, ref).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlite: blob referenced: %w", err)
	}
	return true, nil
}
