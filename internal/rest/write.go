package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/jsontree"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// maxAttempts bounds the compare-and-set retries of an unconditional update
// that keeps losing races; each round has a winner, so this is only reached
// under extreme contention on one resource.
const maxAttempts = 64

// Create stores a new resource with a server-assigned id. An id in the body
// is ignored, as the spec says.
func (s *Service) Create(ctx context.Context, typ string, body []byte) Response {
	rights, r, ok := s.createRights(ctx, typ)
	if !ok {
		return r
	}
	res, r, ok := s.parseFor(typ, body)
	if !ok {
		return r
	}
	id := s.cfg.NewID()
	res.SetID(id)
	blob, r, ok := s.takeBinary(res)
	if !ok {
		return r
	}
	return s.write(ctx, res, id, writeOpts{method: store.MethodCreate, blob: blob, mustBeNew: true, rights: rights})
}

// CreateBinary stores raw content posted with a non-FHIR content type as a
// new Binary.
func (s *Service) CreateBinary(ctx context.Context, contentType string, data []byte) Response {
	rights, r, ok := s.createRights(ctx, "Binary")
	if !ok {
		return r
	}
	res, r, ok := s.binaryResource(contentType, "")
	if !ok {
		return r
	}
	return s.writeRawBinary(ctx, res, s.cfg.NewID(), data, writeOpts{method: store.MethodCreate, mustBeNew: true, rights: rights})
}

// Update replaces a resource, creating it at the client's id when it does
// not exist (update as create). ifMatch, when not empty, is the ETag the
// current version must have.
func (s *Service) Update(ctx context.Context, typ, id string, body []byte, ifMatch string) Response {
	rights, r, ok := s.updateRights(ctx, typ)
	if !ok {
		return r
	}
	if r, ok := s.checkID(typ, id); !ok {
		return r
	}
	res, r, ok := s.parseFor(typ, body)
	if !ok {
		return r
	}
	switch bodyID := res.ID(); {
	case bodyID == "":
		return fail(http.StatusBadRequest, fhir.CodeRequired, "the resource must carry its id for an update", typ+".id")
	case bodyID != id:
		return fail(http.StatusBadRequest, fhir.CodeInvalid, fmt.Sprintf("the id in the body (%q) differs from the id in the URL (%q)", bodyID, id), typ+".id")
	}
	want, r, ok := parseIfMatch(ifMatch)
	if !ok {
		return r
	}
	blob, r, ok := s.takeBinary(res)
	if !ok {
		return r
	}
	return s.write(ctx, res, id, writeOpts{method: store.MethodUpdate, blob: blob, ifMatch: want, rights: rights})
}

// UpdateBinary replaces a Binary with raw content.
func (s *Service) UpdateBinary(ctx context.Context, id, contentType string, data []byte, ifMatch string) Response {
	rights, r, ok := s.updateRights(ctx, "Binary")
	if !ok {
		return r
	}
	if r, ok := s.checkID("Binary", id); !ok {
		return r
	}
	want, r, ok := parseIfMatch(ifMatch)
	if !ok {
		return r
	}
	res, r, ok := s.binaryResource(contentType, id)
	if !ok {
		return r
	}
	return s.writeRawBinary(ctx, res, id, data, writeOpts{method: store.MethodUpdate, ifMatch: want, rights: rights})
}

// Delete records a deletion as a new version (a tombstone). Deleting a
// resource that does not exist, or is already deleted, succeeds without
// writing anything, as the spec allows.
func (s *Service) Delete(ctx context.Context, typ, id, ifMatch string) Response {
	if r, ok := s.checkType(typ); !ok {
		return r
	}
	if typ == auditType {
		return auditWriteRefused()
	}
	dp, r, ok := s.permitFor(ctx, typ, access.Delete)
	if !ok {
		return r
	}
	want, r, ok := parseIfMatch(ifMatch)
	if !ok {
		return r
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, err := s.repo.Current(ctx, typ, id)
		if errors.Is(err, store.ErrNotFound) {
			if want != 0 {
				return preconditionFailed(typ, id, want, 0)
			}
			return Response{Status: http.StatusNoContent}
		}
		if err != nil {
			return s.internalError(ctx, "delete", err)
		}
		if !cur.Deleted {
			if r, ok := s.admitCurrent(ctx, dp, cur); !ok {
				return r
			}
		}
		if want != 0 && cur.VersionID != want {
			return preconditionFailed(typ, id, want, cur.VersionID)
		}
		if cur.Deleted {
			return Response{Status: http.StatusNoContent, Version: cur.VersionID, LastUpdated: cur.LastUpdated}
		}
		now := s.now()
		_, err = s.commit(ctx, []store.Change{{
			Type: typ, ID: id, PrevVersion: cur.VersionID, Version: cur.VersionID + 1,
			LastUpdated: now, Method: store.MethodDelete, Deleted: true,
		}})
		if store.IsConflict(err) {
			continue
		}
		if r, ok := asDenied(err); ok {
			return r
		}
		if err != nil {
			return s.internalError(ctx, "delete", err)
		}
		return Response{Status: http.StatusNoContent, Version: cur.VersionID + 1, LastUpdated: now, Touched: []string{typ + "/" + id}}
	}
	return tooMuchContention(typ, id)
}

type writeOpts struct {
	method    store.Method
	blob      blobContent
	ifMatch   int64 // 0: unconditional
	mustBeNew bool  // create: a server-assigned id must not exist
	rights    writeRights
}

// write commits res as the next version of typ/id with a compare-and-set
// on the current version, retrying lost races unless the client pinned the
// version with If-Match. The caller's rights are checked against the
// current version and the new one before anything is stored.
func (s *Service) write(ctx context.Context, res *fhir.Resource, id string, o writeOpts) Response {
	typ := res.Type()
	if !o.mustBeNew {
		// Writers of one resource in this process take turns: the
		// compare-and-set still guards against other processes, but here
		// a writer would otherwise lose the race over and over to the
		// others (200 concurrent updates of one Patient) and give up.
		defer s.writing.lock(typ + "/" + id)()
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var prev int64
		existed := false
		if !o.mustBeNew { // a fresh random id has no current version to read
			cur, err := s.repo.Current(ctx, typ, id)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return s.internalError(ctx, "write", err)
			default:
				prev = cur.VersionID
				existed = !cur.Deleted
			}
			if existed {
				if r, ok := o.rights.admitTarget(ctx, s, cur); !ok {
					return r
				}
			}
		}
		permits, r, ok := o.rights.forVersion(existed)
		if !ok {
			return r
		}
		if o.ifMatch != 0 && prev != o.ifMatch {
			return preconditionFailed(typ, id, o.ifMatch, prev)
		}
		resp, err := s.commitVersion(ctx, res, id, prev, o.method, o.blob, permits...)
		if r, ok := asDenied(err); ok {
			return r
		}
		if conflict, self := conflictOn(err, typ, id); conflict {
			switch {
			case self && o.mustBeNew:
				return s.internalError(ctx, "create", fmt.Errorf("generated id %s/%s already exists", typ, id))
			case self && o.ifMatch != 0:
				return preconditionFailed(typ, id, o.ifMatch, prev+1)
			}
			continue
		}
		if err != nil {
			return s.internalError(ctx, "write", err)
		}
		if !existed {
			resp.Status = http.StatusCreated
		}
		return resp
	}
	return tooMuchContention(typ, id)
}

// conflictOn reports whether err is a lost race, and whether it was lost on
// typ/id itself. A conflict on another resource is one a CommitHook added
// to the commit (the referral's Task, say) that changed meanwhile: the
// write is planned and hooked again, whatever its If-Match, which is
// about typ/id alone.
func conflictOn(err error, typ, id string) (conflict, self bool) {
	var c *store.ConflictError
	if !errors.As(err, &c) {
		return false, false
	}
	return true, c.Type == typ && c.ID == id
}

// blobContent is the Binary content of a version being written.
type blobContent struct {
	ref  string // already stored (a patch keeps the current version's)
	data []byte // to store once the version is allowed; nil for none
}

// commitVersion renders res as version prev+1 of typ/id, checks it against
// the permits the write needs (a refusal comes back as a *deniedError),
// stores its Binary content, and commits it with a compare-and-set on
// prev. A lost race comes back as a store conflict.
func (s *Service) commitVersion(ctx context.Context, res *fhir.Resource, id string, prev int64, method store.Method, blob blobContent, permits ...permit) (Response, error) {
	c, err := s.prepareVersion(res, id, prev, method, blob.ref, s.now())
	if err != nil {
		return Response{}, err
	}
	if err := s.admitChange(ctx, c, nil, permits...); err != nil {
		return Response{}, err
	}
	if err := s.checkWrite(ctx, c, res.Tree()); err != nil {
		return Response{}, err
	}
	if blob.data != nil {
		if c.BlobRef, err = s.blobs.Put(ctx, blob.data); err != nil {
			return Response{}, fmt.Errorf("store binary: %w", err)
		}
	}
	written, err := s.commit(ctx, []store.Change{c})
	if err != nil {
		return Response{}, err
	}
	return s.committed(ctx, written[0])
}

// now is the timestamp of a write: the millisecond FHIR instants keep.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// prepareVersion renders res as version prev+1 of typ/id, written at now,
// with its search-index entries: a change ready to commit.
func (s *Service) prepareVersion(res *fhir.Resource, id string, prev int64, method store.Method, blobRef string, now time.Time) (store.Change, error) {
	version := prev + 1
	res.SetMeta(strconv.FormatInt(version, 10), now)
	body, err := s.codec.Marshal(res)
	if err != nil {
		return store.Change{}, err
	}
	var index []search.Entry
	if doc := res.Tree(); doc != nil {
		index, err = s.indexDoc(res.Type(), doc) // no need to decode body
	} else {
		index, err = s.indexEntries(res.Type(), body)
	}
	if err != nil {
		return store.Change{}, err
	}
	return store.Change{
		Type: res.Type(), ID: id, PrevVersion: prev, Version: version,
		LastUpdated: now, Method: method, Body: body, BlobRef: blobRef, Index: index, Doc: res.Tree(),
	}, nil
}

// committed is the answer to a write once its change has landed: the
// resource as a read would return it (a Binary with its content).
func (s *Service) committed(ctx context.Context, c store.Change) (Response, error) {
	body := c.Body
	if c.BlobRef != "" {
		var err error
		if body, err = s.resourceBody(ctx, &store.Version{Type: c.Type, ID: c.ID, VersionID: c.Version, Body: c.Body, BlobRef: c.BlobRef}); err != nil {
			return Response{}, err
		}
	}
	return Response{Status: http.StatusOK, Body: body, Version: c.Version, LastUpdated: c.LastUpdated,
		Location: s.versionURL(c.Type, c.ID, c.Version), Touched: []string{c.Type + "/" + c.ID}}, nil
}

// parseFor parses body and checks that it is a resource of type typ.
func (s *Service) parseFor(typ string, body []byte) (*fhir.Resource, Response, bool) {
	res, o := s.codec.ParseTree(body, nil)
	if o != nil {
		return nil, failure(http.StatusBadRequest, o), false
	}
	if res.Type() != typ {
		return nil, fail(http.StatusBadRequest, fhir.CodeInvalid,
			fmt.Sprintf("the body is a %s but the URL is for %s", res.Type(), typ), "resourceType"), false
	}
	return res, Response{}, true
}

// takeBinary takes Binary.data out of the resource, to be stored in the
// blob store once the write is allowed; other types pass.
func (s *Service) takeBinary(res *fhir.Resource) (blobContent, Response, bool) {
	data, _, ok := res.TakeBinaryData()
	if !ok || data == nil {
		return blobContent{}, Response{}, true
	}
	return s.binaryContent(data)
}

func (s *Service) binaryContent(data []byte) (blobContent, Response, bool) {
	if s.cfg.MaxBinaryBytes > 0 && int64(len(data)) > s.cfg.MaxBinaryBytes {
		return blobContent{}, fail(http.StatusRequestEntityTooLarge, fhir.CodeTooLong,
			fmt.Sprintf("Binary content of %d bytes is over the limit of %d", len(data), s.cfg.MaxBinaryBytes), "Binary.data"), false
	}
	return blobContent{data: data}, Response{}, true
}

// binaryResource builds the Binary resource that wraps raw content.
func (s *Service) binaryResource(contentType, id string) (*fhir.Resource, Response, bool) {
	doc := map[string]string{"resourceType": "Binary", "contentType": contentType}
	if id != "" {
		doc["id"] = id
	}
	b, _ := json.Marshal(doc)
	res, o := s.codec.Parse(b)
	if o != nil {
		return nil, failure(http.StatusBadRequest, o), false
	}
	return res, Response{}, true
}

func (s *Service) writeRawBinary(ctx context.Context, res *fhir.Resource, id string, data []byte, o writeOpts) Response {
	res.SetID(id)
	if len(data) > 0 {
		blob, r, ok := s.binaryContent(data)
		if !ok {
			return r
		}
		o.blob = blob
	}
	return s.write(ctx, res, id, o)
}

// binaryContentType reads Binary.contentType from stored JSON.
func binaryContentType(body []byte) string {
	var b struct {
		ContentType string `json:"contentType"`
	}
	_ = json.Unmarshal(body, &b) // stored bodies were produced by the marshaller
	return b.ContentType
}

func parseIfMatch(ifMatch string) (int64, Response, bool) {
	if ifMatch == "" {
		return 0, Response{}, true
	}
	v, ok := ParseETag(ifMatch)
	if !ok {
		return 0, fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("If-Match %q is not a version ETag such as W/\"3\"", ifMatch)), false
	}
	return v, Response{}, true
}

func preconditionFailed(typ, id string, want, have int64) Response {
	msg := fmt.Sprintf("If-Match wants version %d of %s/%s but the current version is %d", want, typ, id, have)
	if have == 0 {
		msg = fmt.Sprintf("If-Match wants version %d of %s/%s, which does not exist", want, typ, id)
	}
	return fail(http.StatusPreconditionFailed, fhir.CodeConflict, msg)
}

func tooMuchContention(typ, id string) Response {
	return fail(http.StatusConflict, fhir.CodeConflict, fmt.Sprintf("%s/%s is being updated by too many clients at once; retry", typ, id))
}

// indexEntries extracts the search-index entries of a rendered resource.
// It reads the marshaller's own output, so the index always agrees with
// what is stored.
func (s *Service) indexEntries(typ string, body []byte) ([]search.Entry, error) {
	if !s.indexer.Indexes(typ) {
		return nil, nil // nothing to extract: skip the decode
	}
	doc, err := decodeForIndex(body)
	if err != nil {
		return nil, err
	}
	return s.indexDoc(typ, doc)
}

// indexDoc is indexEntries for a resource already decoded as the indexer
// reads it.
func (s *Service) indexDoc(typ string, doc map[string]any) ([]search.Entry, error) {
	if !s.indexer.Indexes(typ) {
		return nil, nil
	}
	entries, err := s.indexer.Entries(doc)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	return entries, nil
}

// decodeForIndex decodes resource JSON as the indexer reads it (numbers
// keep their exact text).
func decodeForIndex(body []byte) (map[string]any, error) {
	doc, err := jsontree.Decode(body)
	if err != nil {
		return nil, fmt.Errorf("index: decode: %w", err)
	}
	return doc, nil
}
