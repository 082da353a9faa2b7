package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
)

// fileState is the State of a server alone on its data directory: the
// documents are files under the auth directory (keys.json, clients.json,
// users.json), records live in memory, and the records a restart must
// not lose (revoked tokens, refresh tokens and their markers) are also
// written to a file per kind. Files are written whole, atomically, mode
// 0600. Expiry follows the server's clock, so tests can move it.
type fileState struct {
	dir string
	now func() time.Time

	mu    sync.Mutex
	kinds map[string]map[string]authstate.Record
}

// docFiles are the documents' files.
var docFiles = map[string]string{docKeys: keysFile, docClients: clientsFile, docUsers: usersFile}

// kindFiles are the record kinds kept across restarts, and their files.
var kindFiles = map[string]string{
	kindRevoked:       revokedFile,
	kindRefresh:       refreshFile,
	kindRefreshUsed:   "refresh-used.json",
	kindFamilyRevoked: "family-revoked.json",
}

// newFileState keeps state under dir (DATA/auth).
func newFileState(dir string, now func() time.Time) *fileState {
	return &fileState{dir: dir, now: now, kinds: map[string]map[string]authstate.Record{}}
}

func (s *fileState) docPath(name string) (string, error) {
	f, ok := docFiles[name]
	if !ok {
		return "", fmt.Errorf("auth state: unknown document %q", name)
	}
	return filepath.Join(s.dir, f), nil
}

// contentVersion is a file's version: a hash of its bytes (never 0, which
// means "no file"). Every write replaces the file, so reading it tells a
// change from `telederm clients add` as surely as the version number of a
// database document.
func contentVersion(b []byte) int64 {
	h := fnv.New64a()
	h.Write(b)
	return int64(h.Sum64()>>1) | 1
}

func (s *fileState) LoadDoc(_ context.Context, name string) ([]byte, int64, error) {
	path, err := s.docPath(name)
	if err != nil {
		return nil, 0, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return b, contentVersion(b), nil
}

func (s *fileState) DocVersion(ctx context.Context, name string) (int64, error) {
	_, v, err := s.LoadDoc(ctx, name)
	return v, err
}

// SaveDoc checks the version and replaces the file. Within one process
// writes are serialised; against the admin commands (another process on
// the same files) the check narrows the window to the rename.
func (s *fileState) SaveDoc(ctx context.Context, name string, data []byte, version int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := s.docPath(name)
	if err != nil {
		return 0, err
	}
	cur, err := s.DocVersion(ctx, name)
	if err != nil {
		return 0, err
	}
	if cur != version {
		return 0, authstate.ErrConflict
	}
	b := append(slices.Clip(data), '\n')
	if err := writeFileAtomic(path, b); err != nil {
		return 0, err
	}
	return contentVersion(b), nil
}

// kindLocked is a kind's records, read from its file on first use.
func (s *fileState) kindLocked(kind string) (map[string]authstate.Record, error) {
	if m, ok := s.kinds[kind]; ok {
		return m, nil
	}
	m := map[string]authstate.Record{}
	if f, ok := kindFiles[kind]; ok {
		var err error
		if m, err = readRecordsFile(filepath.Join(s.dir, f), kind, s.now()); err != nil {
			return nil, err
		}
	}
	s.kinds[kind] = m
	return m, nil
}

// pruneLocked drops expired records: those of a persisted kind at their
// expiry (so the file does not grow), the in-memory ones a minute later
// (so that Get can still tell "expired" from "unknown"), and only once
// the map has grown, keeping inserts cheap while it is small.
func (s *fileState) pruneLocked(kind string, m map[string]authstate.Record, now time.Time) {
	_, persisted := kindFiles[kind]
	if !persisted && len(m) < 1024 {
		return
	}
	grace := time.Minute
	if persisted {
		grace = 0
	}
	for k, r := range m {
		if now.Sub(r.Expires) > grace {
			delete(m, k)
		}
	}
}

func (s *fileState) saveLocked(kind string, m map[string]authstate.Record) error {
	f, ok := kindFiles[kind]
	if !ok {
		return nil
	}
	out := make(map[string]fileRecord, len(m))
	for k, r := range m {
		out[k] = fileRecord{Data: json.RawMessage(r.Data), Expires: r.Expires, Labels: r.Labels}
	}
	return writeJSONFile(filepath.Join(s.dir, f), out)
}

func (s *fileState) Insert(_ context.Context, kind string, r authstate.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.kindLocked(kind)
	if err != nil {
		return err
	}
	now := s.now()
	s.pruneLocked(kind, m, now)
	if old, ok := m[r.Key]; ok && now.Before(old.Expires) {
		return authstate.ErrExists
	}
	r.Data, r.Labels = slices.Clone(r.Data), slices.Clone(r.Labels)
	m[r.Key] = r
	if err := s.saveLocked(kind, m); err != nil {
		delete(m, r.Key)
		return err
	}
	return nil
}

func (s *fileState) Get(_ context.Context, kind, key string) (authstate.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.kindLocked(kind)
	if err != nil {
		return authstate.Record{}, err
	}
	r, ok := m[key]
	if !ok {
		return authstate.Record{}, authstate.ErrNotFound
	}
	return r, nil
}

func (s *fileState) Replace(_ context.Context, kind, key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.kindLocked(kind)
	if err != nil {
		return err
	}
	r, ok := m[key]
	if !ok {
		return authstate.ErrNotFound
	}
	r.Data = slices.Clone(data) // a new record: a reader's copy stays as it was
	m[key] = r
	return s.saveLocked(kind, m)
}

func (s *fileState) Delete(_ context.Context, kind, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.kindLocked(kind)
	if err != nil {
		return err
	}
	if _, ok := m[key]; !ok {
		return nil
	}
	delete(m, key)
	return s.saveLocked(kind, m)
}

func (s *fileState) Find(_ context.Context, kind, label string) ([]authstate.Record, error) {
	return s.list(kind, func(r authstate.Record) bool { return slices.Contains(r.Labels, label) })
}

func (s *fileState) List(_ context.Context, kind string) ([]authstate.Record, error) {
	return s.list(kind, func(authstate.Record) bool { return true })
}

func (s *fileState) list(kind string, keep func(authstate.Record) bool) ([]authstate.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.kindLocked(kind)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []authstate.Record
	for _, r := range m {
		if now.Before(r.Expires) && keep(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// fileRecord is a record in a kind's file.
type fileRecord struct {
	Data    json.RawMessage `json:"data"`
	Expires time.Time       `json:"expires"`
	Labels  []string        `json:"labels,omitempty"`
}

// readRecordsFile reads a kind's file, dropping expired records. Files
// written before records were generic are read too: revoked.json mapped
// a token id to its expiry, refresh.json a token hash to its record.
func readRecordsFile(path, kind string, now time.Time) (map[string]authstate.Record, error) {
	var raw map[string]json.RawMessage
	if _, err := readJSONFile(path, &raw); err != nil {
		return nil, err
	}
	m := map[string]authstate.Record{}
	for k, b := range raw {
		var r authstate.Record
		var fr fileRecord
		var exp time.Time
		switch {
		case json.Unmarshal(b, &exp) == nil: // old revoked.json: jti -> the token's expiry
			r = authstate.Record{Key: k, Expires: exp.Add(leeway)}
		case json.Unmarshal(b, &fr) == nil && fr.Data != nil:
			r = authstate.Record{Key: k, Data: fr.Data, Expires: fr.Expires, Labels: fr.Labels}
		case kind == kindRefresh:
			var err error
			if r, err = oldRefreshRecord(k, b); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		default:
			return nil, fmt.Errorf("%s: record %q is malformed", path, k)
		}
		if now.Before(r.Expires) {
			m[k] = r
		}
	}
	return m, nil
}
