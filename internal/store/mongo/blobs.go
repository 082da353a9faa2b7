package mongo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/internal/media"
)

// Blobs keeps Binary content in the database, in GridFS (the bucket
// "blobs": blobs.files and blobs.chunks of 255 KiB), so that every server
// process on the database reads what any of them wrote; a data directory
// per process would not. A file's _id is its content's ref
// ("sha256:<hex>", as media.FileStore names it), so equal content is
// stored once. GridFS writes the chunks and then the files document, so a
// ref whose files document exists is complete.
type Blobs struct {
	bucket *mongo.GridFSBucket
	now    func() time.Time
}

var _ media.BlobStore = (*Blobs)(nil)

const blobBucket = "blobs"

// Blobs returns the store's blob store.
func (s *Store) Blobs() *Blobs {
	return &Blobs{bucket: s.db.GridFSBucket(options.GridFSBucket().SetName(blobBucket)), now: time.Now}
}

// Put stores data and returns its ref. Content already stored is not
// written again; its upload time is refreshed, so the sweeper's grace
// period starts again for content a commit in flight is about to use.
func (b *Blobs) Put(ctx context.Context, data []byte) (string, error) {
	ref := media.Ref(data)
	for attempt := 0; ; attempt++ {
		found, err := b.refresh(ctx, ref)
		if err != nil || found {
			return ref, err
		}
		err = b.bucket.UploadFromStreamWithID(ctx, ref, ref, bytes.NewReader(data))
		if err == nil {
			return ref, nil
		}
		if !mongo.IsDuplicateKeyError(err) || attempt > 0 {
			return "", fmt.Errorf("mongo: store blob %s: %w", ref, err)
		}
		// Chunks of this content exist: another process is storing it
		// (its files document is then there now), or an upload was
		// interrupted and left them. Clear what is left, once, and retry.
		if found, err := b.refresh(ctx, ref); err != nil || found {
			return ref, err
		}
		if _, err := b.bucket.GetChunksCollection().DeleteMany(ctx, bson.D{{Key: "files_id", Value: ref}}); err != nil {
			return "", fmt.Errorf("mongo: store blob %s: clear an interrupted upload: %w", ref, err)
		}
	}
}

// refresh sets the upload time of a stored ref to now; found is false
// when there is none, or the sweeper is removing it.
func (b *Blobs) refresh(ctx context.Context, ref string) (found bool, err error) {
	r, err := b.bucket.GetFilesCollection().UpdateOne(ctx, bson.D{{Key: "_id", Value: ref}, {Key: sweeping, Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "uploadDate", Value: b.now()}}}})
	if err != nil {
		return false, fmt.Errorf("mongo: store blob %s: %w", ref, err)
	}
	return r.MatchedCount > 0, nil
}

// Get reads the content stored under ref.
func (b *Blobs) Get(ctx context.Context, ref string) ([]byte, error) {
	if err := media.CheckRef(ref); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := b.bucket.DownloadToStream(ctx, ref, &buf); err != nil {
		if errors.Is(err, mongo.ErrFileNotFound) {
			return nil, fmt.Errorf("%w: %s", media.ErrBlobNotFound, ref)
		}
		return nil, fmt.Errorf("mongo: read blob %s: %w", ref, err)
	}
	return buf.Bytes(), nil
}

// sweeping marks a files document whose content the sweeper is removing:
// Put no longer takes it as stored.
const sweeping = "sweeping"

// kept marks a files document the sweeper found referenced. Versions are
// never removed (only claims that never became visible are), so it stays
// referenced, and later sweeps skip it: a sweep then costs a query per new
// blob, not per blob stored.
const kept = "kept"

// Sweep removes the content no stored version references (written for a
// write that then failed), among what was last stored or refreshed before
// cutoff. A file is first marked, on the condition that its upload time is
// still before cutoff (a Put that refreshed it meanwhile keeps it); from
// then on Put does not count on it, so its chunks and then its files
// document can go. A Put of the same content meanwhile fails on the files
// document and is retried by its client.
func (b *Blobs) Sweep(ctx context.Context, cutoff time.Time, referenced func(ctx context.Context, ref string) (bool, error)) (removed int, err error) {
	files := b.bucket.GetFilesCollection()
	old := bson.D{{Key: "uploadDate", Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	unchecked := append(bson.D{{Key: kept, Value: bson.D{{Key: "$exists", Value: false}}}}, old...)
	cur, err := files.Find(ctx, unchecked, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("mongo: blob sweep: %w", err)
	}
	var refs []string
	for cur.Next(ctx) {
		if ref, ok := cur.Current.Lookup("_id").StringValueOK(); ok {
			refs = append(refs, ref)
		}
	}
	err = cur.Err()
	_ = cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return 0, fmt.Errorf("mongo: blob sweep: %w", err)
	}
	for _, ref := range refs {
		used, err := referenced(ctx, ref)
		if err != nil {
			return removed, err
		}
		if used {
			if _, err := files.UpdateOne(ctx, bson.D{{Key: "_id", Value: ref}}, bson.D{{Key: "$set", Value: bson.D{{Key: kept, Value: true}}}}); err != nil {
				return removed, fmt.Errorf("mongo: blob sweep: %w", err)
			}
			continue
		}
		r, err := files.UpdateOne(ctx, append(bson.D{{Key: "_id", Value: ref}}, old...),
			bson.D{{Key: "$set", Value: bson.D{{Key: sweeping, Value: true}}}})
		if err != nil {
			return removed, fmt.Errorf("mongo: blob sweep: %w", err)
		}
		if r.MatchedCount == 0 {
			continue // refreshed since
		}
		if _, err := b.bucket.GetChunksCollection().DeleteMany(ctx, bson.D{{Key: "files_id", Value: ref}}); err != nil {
			return removed, fmt.Errorf("mongo: blob sweep: %w", err)
		}
		if _, err := files.DeleteOne(ctx, bson.D{{Key: "_id", Value: ref}}); err != nil {
			return removed, fmt.Errorf("mongo: blob sweep: %w", err)
		}
		removed++
	}
	return removed, nil
}
