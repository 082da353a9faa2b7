// Package media keeps Binary content (photos, PDFs) outside the resource
// rows, addressed by the SHA-256 of its bytes.
package media

import (
	"context"
	"errors"
)

// BlobStore stores immutable content and names it by a ref derived from the
// content, so storing the same bytes twice yields the same ref.
type BlobStore interface {
	Put(ctx context.Context, data []byte) (string, error)
	Get(ctx context.Context, ref string) ([]byte, error)
}

// ErrBlobNotFound reports that no content is stored under a well-formed ref.
var ErrBlobNotFound = errors.New("media: blob not found")

// ErrInvalidRef reports a ref that is not "sha256:" followed by 64 lowercase
// hex digits. Such refs are refused before they reach the file system, so a
// client-supplied ref cannot name any other file.
var ErrInvalidRef = errors.New(`media: invalid blob ref: want "sha256:" followed by 64 lowercase hex digits`)
