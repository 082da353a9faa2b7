package rest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// Read returns the current version of a resource: 404 when it never
// existed, 410 when its current version is a deletion. A resource outside
// the caller's scopes is answered 404 too, exactly as one that does not
// exist, so a confined token learns nothing of other patients' records.
func (s *Service) Read(ctx context.Context, typ, id string) Response {
	if r, ok := s.checkType(typ); !ok {
		return r
	}
	p, r, ok := s.permitFor(ctx, typ, access.Read)
	if !ok {
		return r
	}
	if typ == auditType && s.cfg.AuditTrail != nil {
		return s.screenAuditRead(ctx, p, id, s.cfg.AuditTrail.ReadAuditEvent(ctx, id))
	}
	v, resp, ok := s.current(ctx, typ, id)
	if !ok {
		return s.screenGone(ctx, p, typ, id, resp)
	}
	if r, ok := s.visible(ctx, p, v); !ok {
		return r
	}
	resp = s.versionResponse(ctx, v)
	resp.Touched = []string{typ + "/" + id}
	return resp
}

// auditType is the type of the audit trail's records.
const auditType = "AuditEvent"

// VRead returns one version of a resource.
func (s *Service) VRead(ctx context.Context, typ, id, vid string) Response {
	if r, ok := s.checkType(typ); !ok {
		return r
	}
	p, r, ok := s.permitFor(ctx, typ, access.Read)
	if !ok {
		return r
	}
	n, err := strconv.ParseInt(vid, 10, 64)
	if err != nil || n < 1 {
		return fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("%q is not a version id", vid))
	}
	noVersion := fail(http.StatusNotFound, fhir.CodeNotFound, fmt.Sprintf("%s/%s has no version %d", typ, id, n))
	v, err := s.repo.Version(ctx, typ, id, n)
	if errors.Is(err, store.ErrNotFound) {
		return noVersion
	}
	if err != nil {
		return s.internalError(ctx, "vread", err)
	}
	if v.Deleted {
		seen, err := s.visibleDeletion(ctx, p, typ, id, v.VersionID)
		if err != nil {
			return s.internalError(ctx, "vread", err)
		}
		if !seen {
			return noVersion
		}
		r := fail(http.StatusGone, fhir.CodeDeleted, fmt.Sprintf("version %d of %s/%s is a deletion", n, typ, id))
		r.Version, r.LastUpdated = v.VersionID, v.LastUpdated
		return r
	}
	if _, ok := s.visible(ctx, p, v); !ok {
		return noVersion
	}
	resp := s.versionResponse(ctx, v)
	resp.Touched = []string{typ + "/" + id}
	return resp
}

// ReadBinaryContent returns the raw bytes of a Binary with its stored
// content type, for clients that did not ask for a FHIR format.
func (s *Service) ReadBinaryContent(ctx context.Context, id string) Response {
	p, r, ok := s.permitFor(ctx, "Binary", access.Read)
	if !ok {
		return r
	}
	v, resp, ok := s.current(ctx, "Binary", id)
	if !ok {
		return s.screenGone(ctx, p, "Binary", id, resp)
	}
	if r, ok := s.visible(ctx, p, v); !ok {
		return r
	}
	data, err := s.blobContent(ctx, v)
	if err != nil {
		return s.internalError(ctx, "read binary", err)
	}
	ct := binaryContentType(v.Body)
	if ct == "" {
		ct = "application/octet-stream"
	}
	return Response{Status: http.StatusOK, Body: data, ContentType: ct, Version: v.VersionID, LastUpdated: v.LastUpdated,
		Touched: []string{"Binary/" + id}}
}

// current loads the current version and turns absence and deletion into
// their responses.
func (s *Service) current(ctx context.Context, typ, id string) (*store.Version, Response, bool) {
	if r, ok := s.checkType(typ); !ok {
		return nil, r, false
	}
	v, err := s.repo.Current(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notKnown(typ, id), false
	}
	if err != nil {
		return nil, s.internalError(ctx, "read", err), false
	}
	if v.Deleted {
		r := fail(http.StatusGone, fhir.CodeDeleted, fmt.Sprintf("%s/%s was deleted", typ, id))
		r.Version, r.LastUpdated = v.VersionID, v.LastUpdated
		return nil, r, false
	}
	return v, Response{}, true
}

func (s *Service) versionResponse(ctx context.Context, v *store.Version) Response {
	body, err := s.resourceBody(ctx, v)
	if err != nil {
		return s.internalError(ctx, "read", err)
	}
	return Response{Status: http.StatusOK, Body: body, Version: v.VersionID, LastUpdated: v.LastUpdated}
}

// resourceBody returns the stored JSON, with Binary.data put back from the
// blob store.
func (s *Service) resourceBody(ctx context.Context, v *store.Version) ([]byte, error) {
	if v.BlobRef == "" {
		return v.Body, nil
	}
	data, err := s.blobContent(ctx, v)
	if err != nil {
		return nil, err
	}
	return withBinaryData(v.Body, data), nil
}

func (s *Service) blobContent(ctx context.Context, v *store.Version) ([]byte, error) {
	if v.BlobRef == "" {
		return nil, nil
	}
	data, err := s.blobs.Get(ctx, v.BlobRef)
	if err != nil {
		return nil, fmt.Errorf("blob of %s/%s version %d: %w", v.Type, v.ID, v.VersionID, err)
	}
	return data, nil
}

// withBinaryData appends "data" to a stored Binary's JSON object. The stored
// JSON never has a data element (it was taken out before storing), so adding
// it before the closing brace cannot duplicate a key.
func withBinaryData(body, data []byte) []byte {
	end := len(body) - 1
	for end >= 0 && body[end] != '}' {
		end--
	}
	if end < 0 {
		return body
	}
	enc := base64.StdEncoding
	out := make([]byte, 0, len(body)+enc.EncodedLen(len(data))+10)
	out = append(out, body[:end]...)
	out = append(out, `,"data":"`...)
	out = enc.AppendEncode(out, data)
	out = append(out, `"}`...)
	return out
}
