package audit

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver the main store uses too

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// FileName is the audit database Open creates in the data directory: a
// file of its own, so its writer never waits for the main store's.
const FileName = "audit.db"

// walAutoCheckpointPages: see open.
const walAutoCheckpointPages = 25000

// sqliteStore keeps the events of one process in dir/audit.db: the
// auditstore.Store of the embedded deployment. Its key is the event's
// sequence number (seqKey).
type sqliteStore struct {
	log  *slog.Logger
	key  []byte  // the id key, from the meta table
	w, r *sql.DB // one writer connection; a pool of query-only readers
	// The writer's connection, held for the store's life, and its insert
	// statement at the driver level (prepareInsert says why).
	wc   *sql.Conn
	ins  driver.StmtExecContext
	args []driver.NamedValue
	// The writer's own: the last event written, the last folded into ix,
	// how many may wait unfolded and when to fold next.
	lastSeq, folded, foldEvery, foldNext int64
}

var _ auditstore.Store = (*sqliteStore)(nil)

// openSQLite opens, or creates, dir/audit.db.
func openSQLite(ctx context.Context, dir string, opts Options) (*sqliteStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("audit: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("audit: database path %q must not contain '?'", path)
	}
	s := &sqliteStore{log: opts.Logger, foldEvery: foldEvents}
	if err := s.open(ctx, path, opts); err != nil {
		return nil, errors.Join(err, s.closeDBs())
	}
	return s, nil
}

func (s *sqliteStore) open(ctx context.Context, path string, opts Options) error {
	durability := "NORMAL"
	if opts.SyncFull {
		durability = "FULL"
	}
	w := url.Values{}
	w.Set("_busy_timeout", "5000")
	w.Set("_journal_mode", "WAL")
	w.Set("_synchronous", durability)
	w.Set("_txlock", "immediate")
	var err error
	if s.w, err = sql.Open("sqlite3", path+"?"+w.Encode()); err != nil {
		return fmt.Errorf("audit: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("audit: open %s: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("audit: %s: journal mode is %q, want wal (is the file system local?)", path, mode)
	}
	if s.key, err = migrate(ctx, s.w); err != nil {
		return err
	}
	if err := s.w.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0), "+folded+" FROM event").Scan(&s.lastSeq, &s.folded); err != nil {
		return fmt.Errorf("audit: read the last event: %w", err)
	}
	s.foldNext = s.folded + s.foldEvery
	if s.wc, err = s.w.Conn(ctx); err != nil {
		return fmt.Errorf("audit: writer connection: %w", err)
	}
	// SQLite folds the WAL into the file inside whichever commit passes
	// the threshold, syncing the file: every 1,000 pages by default, which
	// the index folds (fold.go) pass every few seconds under load. 25,000
	// pages (100 MiB) measured 15% less writer time per event; Close
	// empties the WAL.
	if _, err := s.wc.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutoCheckpointPages)); err != nil {
		return fmt.Errorf("audit: set checkpoint threshold: %w", err)
	}
	if err := s.prepareInsert(ctx); err != nil {
		return err
	}
	r := url.Values{}
	r.Set("_busy_timeout", "5000")
	r.Set("_query_only", "1")
	if s.r, err = sql.Open("sqlite3", path+"?"+r.Encode()); err != nil {
		return fmt.Errorf("audit: open readers: %w", err)
	}
	s.r.SetMaxOpenConns(opts.Readers)
	s.r.SetMaxIdleConns(opts.Readers)
	return nil
}

func (s *sqliteStore) IDKey() []byte { return s.key }

// Close folds what is left to fold, so that the next start has nothing
// to, and the WAL into the file, so that a copy of audit.db alone is
// complete once the server has stopped.
func (s *sqliteStore) Close() error {
	var err error
	if s.wc != nil {
		s.fold()
		if _, cerr := s.wc.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); cerr != nil {
			err = fmt.Errorf("audit: checkpoint: %w", cerr)
		}
	}
	return errors.Join(err, s.closeDBs())
}

func (s *sqliteStore) closeDBs() error {
	var errs []error
	if s.wc != nil {
		if s.ins != nil {
			errs = append(errs, s.wc.Raw(func(any) error { return s.ins.(driver.Stmt).Close() }))
		}
		errs = append(errs, s.wc.Close())
		s.wc = nil
	}
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	s.r, s.w = nil, nil
	return errors.Join(errs...)
}
