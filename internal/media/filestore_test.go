package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newStore(t *testing.T) (*FileStore, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "blobs")
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", []byte{}},
		{"text", []byte("%PDF-1.7 hello")},
		{"binary", []byte{0, 0xff, 0xd8, 0xff, 0xe0, '\n', 0}},
		{"large", bytes.Repeat([]byte("0123456789abcdef"), 1<<16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := newStore(t)
			ref, err := s.Put(ctx, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tc.data)
			digest := hex.EncodeToString(sum[:])
			if want := "sha256:" + digest; ref != want {
				t.Fatalf("ref = %s, want %s", ref, want)
			}
			if _, err := os.Stat(filepath.Join(dir, digest[:2], digest[2:4], digest)); err != nil {
				t.Fatalf("blob not at dir/ab/cd/<hex>: %v", err)
			}

			got, err := s.Get(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatalf("Get returned %d bytes, want %d", len(got), len(tc.data))
			}

			rc, size, err := s.Open(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			streamed, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if size != int64(len(tc.data)) || !bytes.Equal(streamed, tc.data) {
				t.Fatalf("Open: size %d and %d bytes, want %d", size, len(streamed), len(tc.data))
			}
		})
	}
}

func TestPutIdempotent(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := []byte("dermatoscopy image")
	ref1, err := s.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := parseRef(ref1)
	path := filepath.Join(dir, digest[:2], digest[2:4], digest)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ref2, err := s.Put(ctx, bytes.Clone(data))
	if err != nil {
		t.Fatal(err)
	}
	if ref1 != ref2 {
		t.Fatalf("second Put returned %s, want %s", ref2, ref1)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// A rewrite would rename a new file into place.
	if !os.SameFile(before, after) {
		t.Error("second Put of the same content rewrote the file")
	}
	assertNoTempFiles(t, dir)
}

// A damaged file (wrong size) is repaired by the next Put of its content.
func TestPutRepairsTruncatedFile(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := []byte("some content")
	ref, err := s.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := parseRef(ref)
	if err := os.Truncate(filepath.Join(dir, digest[:2], digest[2:4], digest), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, data); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, ref); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %q, %v; want %q", got, err, data)
	}
}

func TestConcurrentPutSameContent(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := bytes.Repeat([]byte("concurrent"), 10000)
	refs := make([]string, 10)
	errs := make([]error, 10)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() { refs[i], errs[i] = s.Put(ctx, data) })
	}
	wg.Wait()
	for i := range 10 {
		if errs[i] != nil {
			t.Fatalf("Put %d: %v", i, errs[i])
		}
		if refs[i] != refs[0] {
			t.Fatalf("Put %d returned %s, want %s", i, refs[i], refs[0])
		}
	}
	got, err := s.Get(ctx, refs[0])
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after concurrent Puts: %d bytes, %v", len(got), err)
	}
	assertNoTempFiles(t, dir)
}

func TestMalformedRefs(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	valid := strings.Repeat("ab", 32)
	for _, tc := range []struct{ name, ref string }{
		{"empty", ""},
		{"no prefix", valid},
		{"wrong prefix", "sha512:" + valid},
		{"uppercase prefix", "SHA256:" + valid},
		{"uppercase hex", "sha256:" + strings.ToUpper(valid)},
		{"too short", "sha256:" + valid[:63]},
		{"too long", "sha256:" + valid + "a"},
		{"non-hex", "sha256:" + valid[:63] + "g"},
		{"parent traversal", "sha256:../../../../etc/passwd"},
		{"traversal of valid length", "sha256:../" + valid[:61]},
		{"slash", "sha256:" + valid[:32] + "/" + valid[:31]},
		{"absolute path", "/etc/passwd"},
		{"trailing newline", "sha256:" + valid + "\n"},
		{"NUL", "sha256:" + valid[:63] + "\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Get(ctx, tc.ref); !errors.Is(err, ErrInvalidRef) {
				t.Errorf("Get(%q) error = %v, want ErrInvalidRef", tc.ref, err)
			}
			if _, _, err := s.Open(ctx, tc.ref); !errors.Is(err, ErrInvalidRef) {
				t.Errorf("Open(%q) error = %v, want ErrInvalidRef", tc.ref, err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	// Another blob in the same shard must not matter.
	if _, err := s.Put(ctx, []byte("present")); err != nil {
		t.Fatal(err)
	}
	absent, _ := refFor([]byte("absent"))
	if _, err := s.Get(ctx, absent); !errors.Is(err, ErrBlobNotFound) {
		t.Errorf("Get error = %v, want ErrBlobNotFound", err)
	}
	if _, _, err := s.Open(ctx, absent); !errors.Is(err, ErrBlobNotFound) {
		t.Errorf("Open error = %v, want ErrBlobNotFound", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s, _ := newStore(t)
	ref, err := s.Put(context.Background(), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, []byte("y")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put error = %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, ref); !errors.Is(err, context.Canceled) {
		t.Errorf("Get error = %v, want context.Canceled", err)
	}
	if _, _, err := s.Open(ctx, ref); !errors.Is(err, context.Canceled) {
		t.Errorf("Open error = %v, want context.Canceled", err)
	}
}

func TestPermissions(t *testing.T) {
	s, dir := newStore(t)
	ref, err := s.Put(context.Background(), []byte("private"))
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := parseRef(ref)
	for _, p := range []string{
		dir,
		filepath.Join(dir, digest[:2]),
		filepath.Join(dir, digest[:2], digest[2:4]),
		filepath.Join(dir, digest[:2], digest[2:4], digest),
	} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group or other access", p, fi.Mode().Perm())
		}
	}
}

func TestNewFileStore(t *testing.T) {
	if _, err := NewFileStore(""); err == nil {
		t.Error("NewFileStore(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(file); err == nil {
		t.Error("NewFileStore on a regular file succeeded")
	}
	// An existing directory is reused.
	dir := t.TempDir()
	if _, err := NewFileStore(dir); err != nil {
		t.Error(err)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Put remembers the shard directories it made; one removed from outside
// afterwards is made again rather than failing the write.
func TestPutRemakesRemovedShard(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	data := []byte("photo")
	ref, err := s.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if err := os.RemoveAll(filepath.Join(dir, hex.EncodeToString(sum[:])[:2])); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, data); err != nil {
		t.Fatalf("Put after its shard was removed: %v", err)
	}
	got, err := s.Get(ctx, ref)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %q, %v; want %q", got, err, data)
	}
}
