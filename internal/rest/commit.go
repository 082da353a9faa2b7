package rest

import (
	"context"
	"errors"
	"fmt"
	"github.com/telederm/telederm/fhir/jsontree"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// CommitHook sees every commit before it is written: a single create,
// update, patch or delete, or all the versions of a transaction at once.
// It may rewrite the versions being written and add versions of its own,
// which are committed atomically with them, or refuse the commit. The
// teledermatology workflow uses it to triage a referral on submission and
// keep the referral's Task in step.
//
// The hook runs after the caller's rights and the WriteCheckers were
// checked; what it writes is the server's doing and is not checked
// against the caller's scopes. When the commit then loses a race it is
// planned again and the hook runs again on the new plan.
type CommitHook interface {
	BeforeCommit(ctx context.Context, c *Commit) error
}

// Refusal is the error a CommitHook returns to refuse a commit with a
// status (409 for a forbidden state transition, 422 for a rule) and an
// OperationOutcome naming the problems.
type Refusal struct {
	Status  int
	Outcome *fhir.Outcome
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("commit refused (%d): %s", r.Status, r.Outcome.Error())
}

// Commit is one commit on its way to the store, as a CommitHook sees it.
type Commit struct {
	s       *Service
	changes []store.Change
	now     time.Time
}

// Changes are the versions the commit writes, in order; a CommitHook must
// not modify them in place (use Replace).
func (c *Commit) Changes() []store.Change { return c.changes }

// Now is the time the commit is stamped with (meta.lastUpdated).
func (c *Commit) Now() time.Time { return c.now }

// Replace rewrites the body of change i (not a deletion, not a Binary):
// body is parsed and validated like a client's, keeps the change's type,
// id and version, and is indexed again.
func (c *Commit) Replace(i int, body []byte) error {
	old := c.changes[i]
	if old.Deleted || old.Type == "Binary" {
		return fmt.Errorf("rest: commit hook cannot replace %s/%s", old.Type, old.ID)
	}
	ch, err := c.render(old.Type, old.ID, old.PrevVersion, old.Method, body)
	if err != nil {
		return err
	}
	ch.BlobRef = old.BlobRef
	c.changes[i] = ch
	return nil
}

// Put adds a version to the commit: a create when id is empty (the id is
// assigned) or no version of typ/id exists, otherwise an update of its
// current version. A resource already written by the commit is changed
// with Replace instead.
func (c *Commit) Put(ctx context.Context, typ, id string, body []byte) (store.Change, error) {
	if typ == "Binary" {
		return store.Change{}, errors.New("rest: commit hook cannot write Binary")
	}
	var prev int64
	method := store.MethodCreate
	if id == "" {
		id = c.s.cfg.NewID()
	} else {
		if c.index(typ, id) >= 0 {
			return store.Change{}, fmt.Errorf("rest: %s/%s is already in the commit; use Replace", typ, id)
		}
		cur, err := c.s.repo.Current(ctx, typ, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return store.Change{}, err
		default:
			prev = cur.VersionID
			if !cur.Deleted {
				method = store.MethodUpdate
			}
		}
	}
	ch, err := c.render(typ, id, prev, method, body)
	if err != nil {
		return store.Change{}, err
	}
	c.changes = append(c.changes, ch)
	return ch, nil
}

// Amend writes an edited copy of typ/id, a resource that exists (in the
// commit, or stored): the commit's own version is replaced, a stored one
// gets a new version. doc is the whole resource as JSON values (numbers as
// json.Number keep their text). Unlike Replace and Put it is not parsed
// and validated again: it is for the server's small edits of a resource
// that was validated when it was written (a security label, a priority,
// an extension), where a full render would cost more than the rest of the
// write. Binary is refused, as are a changed type or id.
func (c *Commit) Amend(ctx context.Context, typ, id string, doc map[string]any) error {
	if typ == "Binary" {
		return errors.New("rest: commit hook cannot write Binary")
	}
	if doc["resourceType"] != typ || doc["id"] != id {
		return fmt.Errorf("rest: amend of %s/%s with a body for %v/%v", typ, id, doc["resourceType"], doc["id"])
	}
	i := c.index(typ, id)
	var prev int64
	method := store.MethodUpdate
	blobRef := ""
	if i >= 0 {
		old := c.changes[i]
		if old.Deleted {
			return fmt.Errorf("rest: amend of %s/%s, which the commit deletes", typ, id)
		}
		prev, method, blobRef = old.PrevVersion, old.Method, old.BlobRef
	} else {
		cur, err := c.s.repo.Current(ctx, typ, id)
		if err != nil {
			return err
		}
		if cur.Deleted {
			return fmt.Errorf("rest: amend of deleted %s/%s", typ, id)
		}
		prev = cur.VersionID
	}
	version := prev + 1
	body, err := fhir.EncodeResource(stamped(doc, version, c.now)) // the layout the codec writes
	if err != nil {
		return fmt.Errorf("rest: amend %s/%s: %w", typ, id, err)
	}
	index, err := c.amendIndex(typ, i, doc, body)
	if err != nil {
		return err
	}
	// doc is the hook's, to change again; the change keeps its own tree,
	// for the hooks that read the change next (as workflows re-read a
	// referral they labelled, once per photo).
	tree, err := jsontree.Decode(body)
	if err != nil {
		return fmt.Errorf("rest: amend %s/%s: %w", typ, id, err)
	}
	ch := store.Change{Type: typ, ID: id, PrevVersion: prev, Version: version, LastUpdated: c.now,
		Method: method, Body: body, BlobRef: blobRef, Index: index, Doc: tree}
	if i >= 0 {
		c.changes[i] = ch
	} else {
		c.changes = append(c.changes, ch)
	}
	return nil
}

// Create adds typ/id, which the commit does not write and the store does
// not hold (or holds deleted), built by the hook itself from values of
// validated resources: the referral's Task. Like Amend, and for the same
// reason, it is not parsed and validated; the hook's tests check what it
// builds. A doc the codec would write differently (fhir.Plain) goes
// through Put instead, so what is stored is what the codec writes.
func (c *Commit) Create(ctx context.Context, typ, id string, doc map[string]any) error {
	if typ == "Binary" {
		return errors.New("rest: commit hook cannot write Binary")
	}
	if doc["resourceType"] != typ || doc["id"] != id {
		return fmt.Errorf("rest: create of %s/%s with a body for %v/%v", typ, id, doc["resourceType"], doc["id"])
	}
	if c.index(typ, id) >= 0 {
		return fmt.Errorf("rest: %s/%s is already in the commit; use Amend", typ, id)
	}
	var prev int64
	cur, err := c.s.repo.Current(ctx, typ, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case !cur.Deleted:
		return fmt.Errorf("rest: %s/%s exists; use Amend", typ, id)
	default:
		prev = cur.VersionID
	}
	body, err := fhir.EncodeResource(stamped(doc, prev+1, c.now))
	if err != nil {
		return fmt.Errorf("rest: create %s/%s: %w", typ, id, err)
	}
	tree, err := jsontree.Decode(body) // numbers as the indexer reads them
	if err != nil {
		return fmt.Errorf("rest: create %s/%s: %w", typ, id, err)
	}
	if !fhir.Plain(tree) {
		_, err := c.Put(ctx, typ, id, body)
		return err
	}
	index, err := c.s.indexDoc(typ, tree)
	if err != nil {
		return err
	}
	c.changes = append(c.changes, store.Change{Type: typ, ID: id, PrevVersion: prev, Version: prev + 1,
		LastUpdated: c.now, Method: store.MethodCreate, Body: body, Index: index, Doc: tree})
	return nil
}

// stamped sets doc's meta.versionId and meta.lastUpdated, as the codec
// writes them, and returns doc.
func stamped(doc map[string]any, version int64, now time.Time) map[string]any {
	meta, _ := doc["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["versionId"] = strconv.FormatInt(version, 10)
	meta["lastUpdated"] = now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	doc["meta"] = meta
	return doc
}

// amendIndex indexes an amended version (doc, encoded as body) of the
// commit's change i (-1: of a stored version). When the commit holds the
// version it amends and the two differ only in meta, as when the workflow
// labels a referral's photos, the entries of the parameters that cannot
// read meta are the old version's (search.Indexer.EntriesAfterMetaChange).
func (c *Commit) amendIndex(typ string, i int, doc map[string]any, body []byte) ([]search.Entry, error) {
	if i >= 0 && c.changes[i].Body != nil && c.s.indexer.Indexes(typ) {
		old, err := c.changes[i].Doc, error(nil)
		if old == nil {
			old, err = jsontree.Decode(c.changes[i].Body)
		}
		if err == nil && sameExceptMeta(old, doc) {
			entries, err := c.s.indexer.EntriesAfterMetaChange(doc, c.changes[i].Index)
			if err != nil {
				return nil, fmt.Errorf("index: %w", err)
			}
			return entries, nil
		}
	}
	return c.s.indexEntries(typ, body)
}

// sameExceptMeta reports whether two decoded resources are equal in
// everything but meta (jsontree.Equal: an int the caller put in counts as
// a difference).
func sameExceptMeta(a, b map[string]any) bool {
	_, am := a["meta"]
	_, bm := b["meta"]
	if len(a)-btoi(am) != len(b)-btoi(bm) {
		return false
	}
	for k, v := range a {
		if k == "meta" {
			continue
		}
		w, ok := b[k]
		if !ok || !jsontree.Equal(v, w) {
			return false
		}
	}
	return true
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Current returns the version of typ/id the commit writes, or else the
// stored current one (store.ErrNotFound when there is none).
func (c *Commit) Current(ctx context.Context, typ, id string) (*store.Version, error) {
	if i := c.index(typ, id); i >= 0 {
		ch := c.changes[i]
		return &store.Version{Type: ch.Type, ID: ch.ID, VersionID: ch.Version, LastUpdated: ch.LastUpdated,
			Method: ch.Method, Deleted: ch.Deleted, Body: ch.Body, BlobRef: ch.BlobRef}, nil
	}
	return c.s.repo.Current(ctx, typ, id)
}

// Stored returns the stored current version of typ/id, as it was before
// this commit (store.ErrNotFound when there is none).
func (c *Commit) Stored(ctx context.Context, typ, id string) (*store.Version, error) {
	return c.s.repo.Current(ctx, typ, id)
}

// Search runs a search against the stored state (not the commit's own
// versions) with the server's rights, returning at most the first page.
func (c *Commit) Search(ctx context.Context, typ string, params url.Values) ([]store.Version, error) {
	return c.s.SystemSearch(ctx, typ, params)
}

// Find returns the index of typ/id among the commit's changes (the last
// one, when it appears more than once), or -1.
func (c *Commit) Find(typ, id string) int { return c.index(typ, id) }

// index finds typ/id among the commit's changes; -1 when absent.
func (c *Commit) index(typ, id string) int {
	for i := len(c.changes) - 1; i >= 0; i-- {
		if c.changes[i].Type == typ && c.changes[i].ID == id {
			return i
		}
	}
	return -1
}

// render parses body as a version of typ/id following prev, stamped with
// the commit's time.
func (c *Commit) render(typ, id string, prev int64, method store.Method, body []byte) (store.Change, error) {
	res, o := c.s.codec.ParseTree(body, nil)
	if o != nil {
		return store.Change{}, fmt.Errorf("rest: commit hook wrote an invalid %s: %s", typ, o.Error())
	}
	if res.Type() != typ {
		return store.Change{}, fmt.Errorf("rest: commit hook wrote a %s as %s/%s", res.Type(), typ, id)
	}
	res.SetID(id)
	return c.s.prepareVersion(res, id, prev, method, "", c.now)
}

// SystemSearch runs a search with the server's own rights (no grant
// applies): the first page of typ matching params, includes left out. It
// is for the parts of the server that act on their own account (the
// workflow, reports), never for answering a client.
func (s *Service) SystemSearch(ctx context.Context, typ string, params url.Values) ([]store.Version, error) {
	q, o := search.Parse(s.registry, typ, params, s.parseOptions(true, 100, 1000))
	if o != nil && o.HasErrors() {
		return nil, fmt.Errorf("rest: system search %s: %s", typ, o.Error())
	}
	q.Include, q.RevInclude = nil, nil
	page, err := s.repo.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	return page.Matches, nil
}

// commit writes changes after the CommitHook has seen them, returning the
// changes as written (the hook may have rewritten and added to them). A
// refusal comes back as a *deniedError carrying its response.
func (s *Service) commit(ctx context.Context, changes []store.Change) ([]store.Change, error) {
	if err := s.checkDeletes(ctx, changes); err != nil {
		return nil, err
	}
	if s.cfg.CommitHook != nil && len(changes) > 0 {
		c := &Commit{s: s, changes: changes, now: changes[0].LastUpdated}
		if err := s.cfg.CommitHook.BeforeCommit(ctx, c); err != nil {
			var ref *Refusal
			if errors.As(err, &ref) {
				status := ref.Status
				if status < 400 || status > 499 {
					status = http.StatusUnprocessableEntity
				}
				return nil, &deniedError{failure(status, ref.Outcome)}
			}
			return nil, fmt.Errorf("commit hook: %w", err)
		}
		changes = c.changes
	}
	if err := s.repo.Commit(ctx, changes); err != nil {
		return nil, err
	}
	return changes, nil
}
