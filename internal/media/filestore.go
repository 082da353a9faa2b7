package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Blobs hold patient data, so only the server's own user may read them
// (os.CreateTemp already makes files 0600).
const dirPerm = 0o700

// FileStore keeps each blob in its own file, dir/ab/cd/<hex>, where ab and cd
// are the first two byte pairs of the hex digest: two levels of 256
// directories keep every directory small. It is safe for concurrent use, by
// several processes too, since files are only ever created by rename.
type FileStore struct {
	dir string
	// shards are the shard directories known to exist ("ab/cd"): nothing
	// removes them, so each is made (and its parent synced) once, not
	// tried again on every Put.
	shards sync.Map
}

var _ BlobStore = (*FileStore)(nil)

// NewFileStore returns a store rooted at dir, creating dir if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("media: file store directory is empty")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("media: create file store: %w", err)
	}
	return &FileStore{dir: filepath.Clean(dir)}, nil
}

// shard is the directory holding the blob with this digest.
func (s *FileStore) shard(digest string) string {
	return filepath.Join(s.dir, digest[0:2], digest[2:4])
}

func (s *FileStore) path(digest string) string {
	return filepath.Join(s.shard(digest), digest)
}

// Put stores data durably and returns its ref. Storing content that is
// already present writes nothing.
func (s *FileStore) Put(ctx context.Context, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	ref, digest := refFor(data)
	final := s.path(digest)
	// A size mismatch can only be damage from outside; rewriting repairs it.
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(data)) {
		// The content is already here, perhaps as an orphan the sweeper
		// would take: refresh its time so the grace period starts again.
		now := time.Now()
		if err := os.Chtimes(final, now, now); err != nil {
			return "", fmt.Errorf("media: put %s: %w", ref, err)
		}
		return ref, nil
	}
	if err := s.mkShard(digest); err != nil {
		return "", fmt.Errorf("media: put %s: %w", ref, err)
	}
	err := writeAtomic(s.shard(digest), final, data)
	if errors.Is(err, fs.ErrNotExist) {
		// The shard was removed from outside since it was made: make it
		// again.
		s.shards.Delete(digest[0:4])
		if err = s.mkShard(digest); err == nil {
			err = writeAtomic(s.shard(digest), final, data)
		}
	}
	if err != nil {
		return "", fmt.Errorf("media: put %s: %w", ref, err)
	}
	return ref, nil
}

// mkShard creates the blob's two directory levels, syncing each parent that
// gained an entry so the new directory survives a crash.
func (s *FileStore) mkShard(digest string) error {
	if _, ok := s.shards.Load(digest[0:4]); ok {
		return nil
	}
	parent := s.dir
	for _, name := range []string{digest[0:2], digest[2:4]} {
		d := filepath.Join(parent, name)
		err := os.Mkdir(d, dirPerm)
		switch {
		case err == nil:
			if err := syncDir(parent); err != nil {
				return err
			}
		case !errors.Is(err, fs.ErrExist):
			return err
		}
		parent = d
	}
	s.shards.Store(digest[0:4], true)
	return nil
}

// writeAtomic writes data to final so that readers see either no file or the
// whole content: it writes a temp file in the same directory, syncs it,
// renames it into place and syncs the directory. Concurrent writers of the
// same content each rename a complete copy, so any of them may win.
func writeAtomic(dir, final string, data []byte) (err error) {
	// The leading dot keeps temp names from ever matching a digest.
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, final); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get returns the content stored under ref. It does not re-hash the content:
// files are written only by rename, so a present file is complete.
func (s *FileStore) Get(ctx context.Context, ref string) ([]byte, error) {
	digest, err := s.lookup(ctx, ref)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.path(digest))
	if err != nil {
		return nil, notFound(ref, err)
	}
	return data, nil
}

// Open streams the content stored under ref, for content too large to hold
// in memory, and reports its size. The caller closes the reader.
func (s *FileStore) Open(ctx context.Context, ref string) (io.ReadCloser, int64, error) {
	digest, err := s.lookup(ctx, ref)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(s.path(digest))
	if err != nil {
		return nil, 0, notFound(ref, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", f.Name())
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("media: open %s: %w", ref, err)
	}
	return f, fi.Size(), nil
}

// lookup checks the context and the ref, returning the digest.
func (s *FileStore) lookup(ctx context.Context, ref string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return parseRef(ref)
}

// notFound maps a missing file to ErrBlobNotFound and wraps anything else.
func notFound(ref string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s", ErrBlobNotFound, ref)
	}
	return fmt.Errorf("media: read %s: %w", ref, err)
}

// Sweep removes the blobs no stored version references: content written
// for a write that then failed (a transaction refused after its photos
// were stored, say). Only files untouched since before cutoff are
// considered, so content written for a commit still in flight is safe
// (Put refreshes the time of content it finds already stored), and so
// are temporary files of interrupted writes, which go too. referenced
// reports whether any version refers to a ref.
func (s *FileStore) Sweep(ctx context.Context, cutoff time.Time, referenced func(ctx context.Context, ref string) (bool, error)) (removed int, err error) {
	err = filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if !info.Mode().IsRegular() || !info.ModTime().Before(cutoff) {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".tmp-") {
			if err := os.Remove(path); err == nil {
				removed++
			}
			return nil
		}
		ref := refPrefix + name
		if _, err := parseRef(ref); err != nil {
			return nil // not ours: leave it
		}
		used, err := referenced(ctx, ref)
		if err != nil {
			return err
		}
		if used {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("media: sweep: %w", err)
	}
	return removed, nil
}
