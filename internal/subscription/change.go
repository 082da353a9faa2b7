package subscription

import (
	"context"
	"errors"
	"fmt"

	"github.com/telederm/telederm/fhir/jsontree"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// change is one committed version being matched, with what matching
// needs computed once, on first use: its index entries (for a deletion,
// those of the version it deleted, so filters still apply) and the
// version before it.
type change struct {
	ctx  context.Context
	repo store.Repository
	ix   *search.Indexer
	v    store.Committed

	entries []search.Entry
	indexed bool

	prevLoaded bool
	prev       *snapshot // nil: no previous version, or it was a deletion
	prevErr    error
}

// snapshot is a version with its index entries.
type snapshot struct {
	v       *store.Version
	entries []search.Entry
}

func newChange(ctx context.Context, repo store.Repository, ix *search.Indexer, v store.Committed) *change {
	return &change{ctx: ctx, repo: repo, ix: ix, v: v}
}

// index computes the entries matching uses.
func (c *change) index() error {
	if c.indexed {
		return nil
	}
	c.indexed = true
	if !c.v.Deleted {
		es, err := entriesOf(c.ix, c.v.Body)
		c.entries = es
		return err
	}
	prev, err := c.previous()
	if err != nil {
		return err
	}
	if prev != nil {
		c.entries = prev.entries
	}
	return nil
}

// previous loads the version before this one; nil when there is none or
// it was a deletion.
func (c *change) previous() (*snapshot, error) {
	if c.prevLoaded {
		return c.prev, c.prevErr
	}
	c.prevLoaded = true
	if c.v.VersionID <= 1 {
		return nil, nil
	}
	pv, err := c.repo.Version(c.ctx, c.v.Type, c.v.ID, c.v.VersionID-1)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		c.prevErr = fmt.Errorf("previous version of %s/%s: %w", c.v.Type, c.v.ID, err)
		return nil, c.prevErr
	case pv.Deleted:
		return nil, nil
	}
	es, err := entriesOf(c.ix, pv.Body)
	if err != nil {
		c.prevErr = err
		return nil, err
	}
	c.prev = &snapshot{v: pv, entries: es}
	return c.prev, nil
}

// interaction is "create", "update" or "delete". A version that follows a
// deletion (or none) is a create, as the PUT that wrote it answered 201.
func (c *change) interaction() (string, error) {
	switch {
	case c.v.Deleted:
		return "delete", nil
	case c.v.VersionID <= 1:
		return "create", nil
	}
	prev, err := c.previous()
	switch {
	case err != nil:
		return "", err
	case prev == nil:
		return "create", nil
	}
	return "update", nil
}

// method is the HTTP method a notification shows for the change.
func method(v *store.Version, created bool) string {
	switch {
	case v.Deleted:
		return "DELETE"
	case created:
		return "POST"
	}
	return "PUT"
}

// entriesOf indexes a stored body as the store indexed it when written.
// An expression that fails on one parameter still leaves the others'
// entries, as at write time.
func entriesOf(ix *search.Indexer, body []byte) ([]search.Entry, error) {
	doc, err := jsontree.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("decode stored resource: %w", err)
	}
	es, _ := ix.Entries(doc)
	return es, nil
}
