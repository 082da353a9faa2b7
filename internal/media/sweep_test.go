package media

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSweep(t *testing.T) {
	ctx := context.Background()
	s, dir := newStore(t)
	old := time.Now().Add(-2 * time.Hour)
	put := func(content string, at time.Time) string {
		t.Helper()
		ref, err := s.Put(ctx, []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		digest, _ := parseRef(ref)
		if err := os.Chtimes(s.path(digest), at, at); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	kept := put("referenced photo", old)
	orphan := put("orphan photo", old)
	fresh := put("photo of a write in flight", time.Now())
	revived := put("orphan put again", old)
	if _, err := s.Put(ctx, []byte("orphan put again")); err != nil { // refreshes its time
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tmp-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(tmp, old, old)
	stranger := filepath.Join(dir, "README")
	_ = os.WriteFile(stranger, []byte("not a blob"), 0o600)
	_ = os.Chtimes(stranger, old, old)

	var asked []string
	removed, err := s.Sweep(ctx, time.Now().Add(-time.Hour), func(_ context.Context, ref string) (bool, error) {
		asked = append(asked, ref)
		return ref == kept, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if removed != 2 {
		t.Errorf("removed %d, want 2 (the orphan and the temporary file)", removed)
	}
	for ref, want := range map[string]bool{kept: true, orphan: false, fresh: true, revived: true} {
		_, err := s.Get(ctx, ref)
		if got := err == nil; got != want {
			t.Errorf("%s present %v, want %v (err %v)", ref, got, want, err)
		}
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Error("an old temporary file was left")
	}
	if _, err := os.Stat(stranger); err != nil {
		t.Error("a file that is not a blob was removed")
	}
	for _, ref := range asked {
		if ref == fresh || ref == revived {
			t.Errorf("asked about %s, which is within the grace period", ref)
		}
	}
}

func TestSweepStopsOnLookupError(t *testing.T) {
	s, _ := newStore(t)
	ref, _ := s.Put(context.Background(), []byte("x"))
	digest, _ := parseRef(ref)
	old := time.Now().Add(-2 * time.Hour)
	_ = os.Chtimes(s.path(digest), old, old)
	boom := errors.New("store down")
	_, err := s.Sweep(context.Background(), time.Now(), func(context.Context, string) (bool, error) { return false, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the lookup's error", err)
	}
	if _, err := s.Get(context.Background(), ref); err != nil {
		t.Error("a blob was removed although the lookup failed")
	}
}
