// Package sqlite is the embedded default backend of store.Repository: one
// SQLite file in WAL mode under the data directory, no server to install.
//
// A Store holds one writer connection and a pool of reader connections. All
// commits queue in Go for the single writer (BEGIN IMMEDIATE), so writers
// never meet SQLITE_BUSY from each other; readers see the last committed
// snapshot and never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/sqlite/pagecache"
	"github.com/telederm/telederm/internal/store/sqlite/walbuf"
	"github.com/telederm/telederm/internal/store/sqlite/walhook"
)

// FileName is the database file Open creates in its directory.
const FileName = "telederm.db"

// Store is a store.Repository on one SQLite file. It is safe for concurrent
// use.
type Store struct {
	gate  gate
	w     *sql.DB // exactly one connection: the writer
	r     *sql.DB // the reader pool, query_only
	ws    writeStmts
	rs    readStmts
	queue commitQueue // commits waiting for the running group (commit.go)
	// signal wakes consumers of the commit log (changes.go).
	signal store.Signal
	cache  *currentCache   // current versions read by id (cache.go)
	rows   rowStmts        // the writer's index row statements (index.go)
	spans  spanCache       // date spans idx_date_span is known to hold (spans.go)
	unlock func() error    // releases the directory's lock (lock_unix.go)
	frames *walhook.Frames // the writer's WAL size (checkpoint.go)
	ckpt   *checkpointer
}

var _ store.Repository = (*Store)(nil)

// Open opens, or creates, dir/telederm.db, creating dir if needed, and
// migrates its schema to the current version.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create data directory: %w", err)
	}
	opts = opts.withDefaults()
	// Installed when the package was initialised; it can only have failed
	// if something opened SQLite before that, which is a bug to hear of.
	if err := pagecache.Err(); err != nil {
		return nil, err
	}
	if !opts.PlainWAL {
		if err := walbuf.Register(); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(dir, FileName)
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{cache: newCurrentCache(), unlock: unlock}
	if err := s.open(ctx, path, opts); err != nil {
		return nil, errors.Join(err, s.release(false))
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, path string, opts Options) error {
	wdsn, err := dsn(path, opts, true)
	if err != nil {
		return err
	}
	rdsn, err := dsn(path, opts, false)
	if err != nil {
		return err
	}
	// The writer comes first: it turns on WAL and creates the schema the
	// readers will prepare statements against.
	if s.w, err = sql.Open(driverName, wdsn); err != nil {
		return fmt.Errorf("sqlite: open writer: %w", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: %s: journal mode is %q, want wal (is the file system local?)", path, mode)
	}
	if err := migrate(ctx, s.w); err != nil {
		return err
	}
	// The writer's statement journals (a copy of each page a multi-row
	// statement touches, kept until it ends) stay in memory rather than
	// in a temporary file: as files they cost more writes than the WAL.
	// mattn's DSN has no parameter for it; the writer is one connection
	// kept open for the store's life.
	if _, err := s.w.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		return fmt.Errorf("sqlite: set temp store: %w", err)
	}
	if err := prepare(ctx, s.w, s.ws.all(), writeQueries()...); err != nil {
		return err
	}
	// The writer checkpoints no more by itself (checkpoint.go): the hook
	// that counts its WAL's frames takes the automatic checkpoint's place.
	s.frames = walhook.New()
	s.rows.frames = s.frames
	if err := s.rows.open(ctx, s.w); err != nil {
		return err
	}
	ckdb, err := sql.Open(driverName, rdsn)
	if err != nil {
		return fmt.Errorf("sqlite: open checkpointer: %w", err)
	}
	ckdb.SetMaxOpenConns(1)
	ckdb.SetMaxIdleConns(1)
	ckdb.SetConnMaxLifetime(0)
	ckdb.SetConnMaxIdleTime(0)
	s.ckpt = newCheckpointer(ckdb, s.frames)

	if s.r, err = sql.Open(driverName, rdsn); err != nil {
		return fmt.Errorf("sqlite: open readers: %w", err)
	}
	s.r.SetMaxOpenConns(opts.Readers)
	s.r.SetMaxIdleConns(opts.Readers)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	return prepare(ctx, s.r, s.rs.all(), qCurrent, qVersion, qHistoryInstance, qHistoryType, qHistorySystem)
}

// Ping reports whether the store can serve reads and is not closed.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close waits for calls in flight, checkpoints the WAL into the database
// file and closes every connection. Calls after Close return ErrClosed; a
// second Close returns nil.
func (s *Store) Close() error {
	if !s.gate.close() {
		return nil
	}
	return s.release(true)
}

// release closes whatever open managed to set up; checkpoint is false when
// open failed and the file may not even be a database.
func (s *Store) release(checkpoint bool) error {
	var errs []error
	errs = append(errs, closeStmts(s.rs.all()))
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.close())
	}
	errs = append(errs, closeStmts(s.ws.all()))
	errs = append(errs, s.rows.close())
	if s.w != nil && checkpoint {
		// Fold the WAL into the main file so a copy of telederm.db alone is
		// complete, and refresh the planner's statistics while we are at it.
		ctx := context.Background()
		if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: checkpoint: %w", err))
		}
		if _, err := s.w.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: optimize: %w", err))
		}
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if s.frames != nil {
		s.frames.Free() // after the writer, whose hook wrote it
	}
	if s.unlock != nil {
		errs = append(errs, s.unlock())
	}
	return errors.Join(errs...)
}
