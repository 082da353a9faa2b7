package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/jsonpatch"
	"github.com/telederm/telederm/internal/store"
)

// PatchJSON applies an RFC 6902 JSON Patch to the current version.
func (s *Service) PatchJSON(ctx context.Context, typ, id string, patch []byte, ifMatch string) Response {
	return s.patch(ctx, typ, id, ifMatch, func(cur []byte) ([]byte, Response, bool) {
		return applyJSONPatch(typ, cur, patch)
	})
}

// applyJSONPatch applies an RFC 6902 JSON Patch to a stored body.
func applyJSONPatch(typ string, cur, patch []byte) ([]byte, Response, bool) {
	patched, err := jsonpatch.Apply(cur, patch)
	if err != nil {
		return nil, patchFailure(typ, err), false
	}
	return patched, Response{}, true
}

// patcher turns the current body of a resource into the patched one, or
// says why it cannot.
type patcher func(cur []byte) ([]byte, Response, bool)

// patch applies a patch to the current version. The patched resource must
// still be valid and keep its type and id; the whole read-patch-write
// repeats when another client wrote in between, unless the client pinned
// the version with If-Match.
func (s *Service) patch(ctx context.Context, typ, id, ifMatch string, apply patcher) Response {
	if typ == "Binary" {
		return fail(http.StatusMethodNotAllowed, fhir.CodeNotSupported, "Binary content is replaced with PUT, not patched")
	}
	rights, r, ok := s.updateRights(ctx, typ)
	if !ok {
		return r
	}
	want, r, ok := parseIfMatch(ifMatch)
	if !ok {
		return r
	}
	defer s.writing.lock(typ + "/" + id)() // take turns, as write does
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, r, ok := s.current(ctx, typ, id)
		if !ok {
			if want != 0 && r.Status == http.StatusNotFound {
				return preconditionFailed(typ, id, want, 0)
			}
			return r
		}
		if r, ok := s.admitCurrent(ctx, rights.update, cur); !ok {
			return r
		}
		if want != 0 && cur.VersionID != want {
			return preconditionFailed(typ, id, want, cur.VersionID)
		}
		patched, r, ok := apply(cur.Body)
		if !ok {
			return r
		}
		res, o := s.codec.ParseTree(patched, nil)
		if o != nil {
			o.Issue = append([]fhir.Issue{{Severity: fhir.SeverityError, Code: fhir.CodeProcessing,
				Diagnostics: "the patch would make the resource invalid"}}, o.Issue...)
			return failure(http.StatusUnprocessableEntity, o)
		}
		if res.Type() != typ || res.ID() != id {
			return fail(http.StatusUnprocessableEntity, fhir.CodeProcessing, "a patch may not change the resource type or id", typ+".id")
		}
		resp, err := s.commitVersion(ctx, res, id, cur.VersionID, store.MethodPatch, blobContent{ref: cur.BlobRef}, rights.update)
		if r, ok := asDenied(err); ok {
			return r
		}
		if conflict, self := conflictOn(err, typ, id); conflict {
			if self && want != 0 {
				return preconditionFailed(typ, id, want, cur.VersionID+1)
			}
			continue
		}
		if err != nil {
			return s.internalError(ctx, "patch", err)
		}
		return resp
	}
	return tooMuchContention(typ, id)
}

func patchFailure(typ string, err error) Response {
	var pe *jsonpatch.Error
	if !errors.As(err, &pe) {
		return fail(http.StatusBadRequest, fhir.CodeInvalid, err.Error())
	}
	if pe.Op < 0 && strings.HasPrefix(pe.Reason, "document") {
		return fail(http.StatusInternalServerError, fhir.CodeException, "the stored resource could not be patched")
	}
	if pe.Op < 0 {
		return fail(http.StatusBadRequest, fhir.CodeStructure, "the JSON Patch document is malformed: "+pe.Reason)
	}
	return fail(http.StatusUnprocessableEntity, fhir.CodeProcessing,
		fmt.Sprintf("JSON Patch operation %d (%s) failed: %s", pe.Op, pe.Path, pe.Reason), pe.Expression(typ))
}
