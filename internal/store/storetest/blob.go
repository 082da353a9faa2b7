package storetest

import (
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// testBlobReferenced checks that a blob counts as referenced while any
// version refers to it, current or past (history keeps old content), and
// not when none ever did.
func testBlobReferenced(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	const (
		photo1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		photo2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		orphan = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	)
	v1 := write("Binary", "b", 1, minute(0))
	v1.BlobRef = photo1
	v2 := write("Binary", "b", 2, minute(1))
	v2.BlobRef = photo2
	commit(t, r, v1)
	commit(t, r, v2)
	commit(t, r, tombstone("Binary", "b", 3, minute(2)))
	for ref, want := range map[string]bool{photo1: true, photo2: true, orphan: false, "": false} {
		got, err := r.BlobReferenced(t.Context(), ref)
		if err != nil {
			t.Fatalf("BlobReferenced(%q): %v", ref, err)
		}
		if got != want {
			t.Errorf("BlobReferenced(%q) = %v, want %v", ref, got, want)
		}
	}
}
