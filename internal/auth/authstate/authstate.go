// Package authstate is the contract between the authorization server
// (internal/auth) and the places its state can live: files and memory in
// one process (the embedded store), or a database every process of a
// deployment shares (internal/store/mongo). It is a package of its own so
// that a store can implement State without importing the server.
package authstate

import (
	"context"
	"errors"
	"time"
)

// The errors a State reports; implementations wrap or return them as is.
var (
	// ErrConflict: SaveDoc's version is not the document's current one
	// (another writer replaced it since it was read).
	ErrConflict = errors.New("auth state: the document changed since it was read")
	// ErrExists: Insert found an unexpired record with the key.
	ErrExists = errors.New("auth state: a record with that key exists")
	// ErrNotFound: no record with the key (or only an expired one).
	ErrNotFound = errors.New("auth state: no such record")
)

// Record is one keyed record with an expiry: a revoked token id, a
// refresh token, an authorization code, a launch, a sign-in transaction,
// a client assertion id, or a marker that one of those was used.
type Record struct {
	Key     string
	Data    []byte // opaque to the State (JSON, as the server writes it)
	Expires time.Time
	// Labels let Find list records by something other than the key (a
	// refresh token's family, its user).
	Labels []string
}

// State keeps the authorization server's state. Its two kinds of storage:
//
// Documents (keys, clients, users) are small, rarely written and read
// whole. Each write makes a new version; SaveDoc writes only over the
// version the writer read, so of two processes rotating the signing key
// at once one wins and the other reloads.
//
// Records live until their expiry. Insert is atomic insert-if-absent: it
// decides every race that matters (a code redeemed once, a refresh token
// rotated once, an assertion id used once) by the unique key, never by a
// conditional update, which some MongoDB-compatible servers (FerretDB)
// do not make atomic.
type State interface {
	// LoadDoc returns a document and its version; version 0 and nil data
	// when there is none.
	LoadDoc(ctx context.Context, name string) (data []byte, version int64, err error)
	// DocVersion is the document's current version alone (0: none),
	// cheap enough to poll.
	DocVersion(ctx context.Context, name string) (int64, error)
	// SaveDoc replaces the document read at version (0: absent) and
	// returns the new version, or ErrConflict.
	SaveDoc(ctx context.Context, name string, data []byte, version int64) (int64, error)

	// Insert adds a record of a kind; ErrExists when an unexpired record
	// of that kind has its key.
	Insert(ctx context.Context, kind string, r Record) error
	// Get returns a record, ErrNotFound when there is none. A record past
	// its expiry may still come back (until it is swept): callers check
	// Expires, so they can tell "expired" from "unknown".
	Get(ctx context.Context, kind, key string) (Record, error)
	// Replace swaps the data of an existing record, keeping its expiry
	// and labels; ErrNotFound when there is none. It is for records with
	// one writer (a sign-in transaction, driven by one browser).
	Replace(ctx context.Context, kind, key string, data []byte) error
	// Delete removes a record; a missing one is not an error.
	Delete(ctx context.Context, kind, key string) error
	// Find lists the unexpired records of a kind carrying a label.
	Find(ctx context.Context, kind, label string) ([]Record, error)
	// List lists every unexpired record of a kind.
	List(ctx context.Context, kind string) ([]Record, error)
}
