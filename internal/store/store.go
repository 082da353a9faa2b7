// Package store defines the Repository that every storage backend implements.
//
// The interface is shaped around versioned documents, not SQL: a backend keeps
// every version of every resource, knows the current one without scanning
// history, and commits a set of changes atomically with a compare-and-set on
// each resource's current version. The REST layer renders the resource bytes
// (with meta.versionId and meta.lastUpdated already set) before it commits, so
// a backend never parses or re-encodes FHIR JSON.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/telederm/telederm/fhir/search"
)

// ErrNotFound reports that no version of the resource exists.
var ErrNotFound = errors.New("store: not found")

// ErrNotSupported reports a search the backend cannot answer (a
// parameter type or modifier it has no translation for). It is the
// client's request, not the store, that is at fault.
var ErrNotSupported = errors.New("store: search not supported")

// ErrBadCursor reports a HistoryQuery.Cursor that no page of this store
// handed out (corrupt, truncated or from another backend).
var ErrBadCursor = errors.New("store: bad history cursor")

// ConflictError reports that a Change's PrevVersion did not match the
// resource's current version when the commit ran. Nothing of the commit was
// written.
type ConflictError struct {
	Type, ID string
	// Want is the PrevVersion the change expected; Have is what the store had
	// (0 when the resource did not exist).
	Want, Have int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: version conflict on %s/%s: expected current version %d, found %d", e.Type, e.ID, e.Want, e.Have)
}

// IsConflict reports whether err is (or wraps) a *ConflictError.
func IsConflict(err error) bool {
	var c *ConflictError
	return errors.As(err, &c)
}

// Method is the interaction that produced a version; history entries report it.
type Method string

const (
	MethodCreate Method = "POST"
	MethodUpdate Method = "PUT"
	MethodPatch  Method = "PATCH"
	MethodDelete Method = "DELETE"
)

// Version is one stored version of a resource.
type Version struct {
	Type        string
	ID          string
	VersionID   int64     // 1, 2, 3 ... per resource
	LastUpdated time.Time // as written in meta.lastUpdated (UTC, millisecond precision)
	Method      Method
	Deleted     bool   // a tombstone: Body is nil
	Body        []byte // the resource JSON exactly as rendered by the REST layer
	// BlobRef names content kept outside the resource row (Binary data in
	// the blob store); empty when there is none.
	BlobRef string
}

// Committed is a version as the commit log (Repository.Changes) shows it.
type Committed struct {
	// Seq is the version's place in the global commit order (1, 2, 3 ...;
	// gaps are possible).
	Seq int64
	Version
}

// Change is one write in an atomic commit.
type Change struct {
	Type, ID string
	// PrevVersion is the version that must be current for the change to
	// apply: 0 means the resource must not exist yet (a tombstone counts as
	// existing: its version number is what must be given).
	PrevVersion int64
	// Version is the new version: always PrevVersion+1.
	Version     int64
	LastUpdated time.Time
	Method      Method
	Deleted     bool
	Body        []byte
	BlobRef     string
	// Index is every search-index entry of the new version. It replaces
	// those of the previous version; a deletion has none.
	Index []search.Entry
	// Doc is Body as JSON values (jsontree.Decode's), when the writer
	// already holds it, for the commit hooks that read the change; nil
	// otherwise. It is not stored, and no one may change it.
	Doc map[string]any
}

// HistoryQuery selects versions for the history interactions. Type and ID
// narrow it to a type or to one instance; both empty means the whole system.
type HistoryQuery struct {
	Type, ID string
	// Since keeps versions with LastUpdated >= Since (the _since parameter).
	Since time.Time
	// AtLo/AtHi keep versions that were current at some moment in [AtLo, AtHi)
	// (the _at parameter, at the precision the client gave).
	AtLo, AtHi time.Time
	// Count is the page size (at least 1).
	Count int
	// Cursor continues a previous page; empty for the first page. It is opaque
	// to callers and stays valid while other clients write.
	Cursor string
}

// HistoryPage is one page of versions, newest first.
type HistoryPage struct {
	Versions []Version
	// Next is the cursor of the following page; empty on the last page.
	Next string
}

// SearchPage is one page of search results.
type SearchPage struct {
	// Matches are the current versions that match, in the query's order.
	Matches []Version
	// Included are the resources _include and _revinclude bring in, each
	// once and none that is also a match.
	Included []Version
	// Next is the cursor of the following page; empty on the last page.
	Next string
	// Total counts the matches across all pages; -1 when it was not counted.
	Total int
}

// Coding is a code in a code system, as the index keeps a meta tag or
// security label (without its display).
type Coding struct {
	System, Code string
}

// MetaSummary is what MetaInUse finds, each value once, sorted (codings
// by system, then code).
type MetaSummary struct {
	Profiles []string
	Tags     []Coding
	Security []Coding
}

// Repository is what the REST layer needs from storage. Implementations are
// safe for concurrent use.
type Repository interface {
	// Current returns the current version of a resource (possibly a
	// tombstone), or ErrNotFound.
	Current(ctx context.Context, typ, id string) (*Version, error)
	// Version returns one version of a resource, or ErrNotFound.
	Version(ctx context.Context, typ, id string, version int64) (*Version, error)
	// Commit writes all changes atomically, or none of them. When a change's
	// PrevVersion does not match it returns a *ConflictError.
	Commit(ctx context.Context, changes []Change) error
	// History returns a page of versions, newest first.
	History(ctx context.Context, q HistoryQuery) (HistoryPage, error)
	// Search returns a page of the current, not deleted resources that
	// match q, answered from the index entries alone.
	Search(ctx context.Context, q *search.Query) (SearchPage, error)
	// MetaInUse returns the profiles, tags and security labels on the
	// current, live resources of typ (of every type when typ is empty),
	// answered from their _profile, _tag and _security index entries
	// (the type and system level $meta operation).
	MetaInUse(ctx context.Context, typ string) (MetaSummary, error)
	// BlobReferenced reports whether any version, current or past, of any
	// resource refers to the blob ref (Version.BlobRef): the blob sweeper
	// removes only content nothing refers to.
	BlobReferenced(ctx context.Context, ref string) (bool, error)
	// Changes returns the versions committed after seq after, oldest
	// first, at most limit of them: the commit log that subscriptions are
	// matched from (the durable outbox). Every version a Commit writes
	// appears once, with a seq larger than that of every version committed
	// before it, and only once its commit is visible: a reader that has
	// seen seq n never later finds a version below n it had not seen.
	Changes(ctx context.Context, after int64, limit int) ([]Committed, error)
	// Ping reports whether the store can serve requests (readiness).
	Ping(ctx context.Context) error
	// Close releases the store; in-flight calls finish first.
	Close() error
}
