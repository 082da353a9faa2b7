package mongo

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/telederm/telederm/internal/media"
)

func TestBlobs(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	b, ctx := s.Blobs(), t.Context()
	big := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640,000 bytes: three chunks
	for _, data := range [][]byte{[]byte("photo"), big, {}} {
		ref, err := b.Put(ctx, data)
		if err != nil || ref != media.Ref(data) {
			t.Fatalf("Put of %d bytes: %q, %v", len(data), ref, err)
		}
		again, err := b.Put(ctx, data)
		if err != nil || again != ref {
			t.Fatalf("second Put of %d bytes: %q, %v", len(data), again, err)
		}
		got, err := b.Get(ctx, ref)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get of %d bytes: %d bytes, %v", len(data), len(got), err)
		}
		if n, err := b.bucket.GetFilesCollection().CountDocuments(ctx, bson.D{{Key: "_id", Value: ref}}); err != nil || n != 1 {
			t.Errorf("files documents of %d bytes: %d, %v; want one", len(data), n, err)
		}
	}
	if _, err := b.Get(ctx, media.Ref([]byte("absent"))); !errors.Is(err, media.ErrBlobNotFound) {
		t.Errorf("Get of absent content: %v, want ErrBlobNotFound", err)
	}
	if _, err := b.Get(ctx, "sha256:../../etc/passwd"); !errors.Is(err, media.ErrInvalidRef) {
		t.Errorf("Get of a malformed ref: %v, want ErrInvalidRef", err)
	}
	// An upload interrupted after its first chunk: storing the content
	// again clears the chunk and succeeds.
	data := []byte("interrupted")
	ref := media.Ref(data)
	if _, err := b.bucket.GetChunksCollection().InsertOne(ctx, bson.D{{Key: "files_id", Value: ref}, {Key: "n", Value: int32(0)},
		{Key: "data", Value: bson.Binary{Data: []byte("inter")}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Put(ctx, data); err != nil || got != ref {
		t.Fatalf("Put after an interrupted upload: %q, %v", got, err)
	}
	if got, err := b.Get(ctx, ref); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get after an interrupted upload: %q, %v", got, err)
	}
}

// TestBlobSweep: content no version references and untouched since the
// cutoff goes, chunks and all; recent content, referenced content and
// content a Put refreshed stay.
func TestBlobSweep(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	b, ctx := s.Blobs(), t.Context()
	start := time.Now() // GridFS stamps an upload with the time it happens
	b.now = func() time.Time { return start.Add(2 * time.Hour) }
	put := func(data string) string {
		ref, err := b.Put(ctx, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	orphan, used, refreshed := put("orphan"), put("used"), put("refreshed")
	referenced := func(_ context.Context, ref string) (bool, error) { return ref == used, nil }
	// Everything is younger than an hour-old cutoff.
	if removed, err := b.Sweep(ctx, start.Add(-time.Hour), referenced); err != nil || removed != 0 {
		t.Fatalf("Sweep of recent content: removed %d, %v; want none", removed, err)
	}
	put("refreshed") // stamped two hours on
	removed, err := b.Sweep(ctx, start.Add(time.Hour), referenced)
	if err != nil || removed != 1 {
		t.Fatalf("Sweep: removed %d, %v; want 1", removed, err)
	}
	if _, err := b.Get(ctx, orphan); !errors.Is(err, media.ErrBlobNotFound) {
		t.Errorf("the orphan after the sweep: %v", err)
	}
	if n, _ := b.bucket.GetChunksCollection().CountDocuments(ctx, bson.D{{Key: "files_id", Value: orphan}}); n != 0 {
		t.Errorf("the orphan's chunks: %d left", n)
	}
	for _, ref := range []string{used, refreshed} {
		if _, err := b.Get(ctx, ref); err != nil {
			t.Errorf("%s after the sweep: %v", ref, err)
		}
	}
	// Referenced once is referenced for good: a later sweep does not ask
	// again.
	asked := 0
	if removed, err := b.Sweep(ctx, start.Add(3*time.Hour), func(context.Context, string) (bool, error) { asked++; return false, nil }); err != nil || removed != 1 || asked != 1 {
		t.Fatalf("second Sweep: removed %d, asked %d, %v; want the refreshed content only", removed, asked, err)
	}
	if _, err := b.Get(ctx, used); err != nil {
		t.Errorf("the referenced content after a second sweep: %v", err)
	}
	if got := put("orphan"); got != orphan {
		t.Fatalf("the orphan stored again: %q", got)
	}
	if data, err := b.Get(ctx, orphan); err != nil || string(data) != "orphan" {
		t.Errorf("the orphan stored again: %q, %v", data, err)
	}
}
