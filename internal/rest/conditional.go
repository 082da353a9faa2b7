package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// maxConditionalDelete is how many matches one conditional delete removes;
// beyond it the request fails with 412 rather than deleting a large part of
// the store by accident.
const maxConditionalDelete = 100

// matches runs conditional criteria: strictly (a parameter the server does
// not understand must not widen the match) and for at most limit+1
// resources, which is enough to tell 0, 1 and "too many" apart. It is a
// search, so it needs the caller's search permit and sees only what a
// search by the caller would: a conditional interaction cannot find, nor
// tell the existence of, resources outside the caller's scopes.
func (s *Service) matches(ctx context.Context, typ string, criteria url.Values, limit int) ([]store.Version, Response, bool) {
	if len(criteria) == 0 {
		return nil, fail(http.StatusBadRequest, fhir.CodeRequired, "a conditional interaction needs search parameters"), false
	}
	sp, r, ok := s.permitFor(ctx, typ, access.Search)
	if !ok {
		return nil, r, false
	}
	q, o := search.Parse(s.registry, typ, criteria, s.parseOptions(true, limit+1, limit+1))
	if o != nil && o.HasErrors() {
		return nil, failure(http.StatusBadRequest, o), false
	}
	q.Count = limit + 1
	q.Include, q.RevInclude, q.Sort, q.Cursor = nil, nil, nil, ""
	if r, ok := s.confineSearch(ctx, sp, q, criteria); !ok {
		return nil, r, false
	}
	page, err := s.repo.Search(ctx, q)
	if err != nil {
		return nil, s.internalError(ctx, "conditional match", err), false
	}
	return page.Matches, Response{}, true
}

// ConditionalCreate creates the resource unless ifNoneExist (the
// If-None-Exist header: "identifier=x|y", optionally prefixed by "Type?")
// already matches: one match answers 200 with it, several 412.
func (s *Service) ConditionalCreate(ctx context.Context, typ string, body []byte, ifNoneExist string) Response {
	if _, r, ok := s.createRights(ctx, typ); !ok {
		return r
	}
	criteria, err := url.ParseQuery(strings.TrimPrefix(strings.TrimPrefix(ifNoneExist, typ), "?"))
	if err != nil {
		return fail(http.StatusBadRequest, fhir.CodeValue, "If-None-Exist is not a query string: "+err.Error())
	}
	defer s.creating.lock(conditionKey(typ, criteria))()
	found, r, ok := s.matches(ctx, typ, criteria, 1)
	if !ok {
		return r
	}
	switch len(found) {
	case 0:
		return s.Create(ctx, typ, body)
	case 1:
		resp := s.versionResponse(ctx, &found[0])
		resp.Location = s.versionURL(typ, found[0].ID, found[0].VersionID)
		resp.Touched = []string{typ + "/" + found[0].ID}
		return resp
	}
	return fail(http.StatusPreconditionFailed, fhir.CodeDuplicate, "If-None-Exist matches more than one resource")
}

// ConditionalUpdate updates the one resource the criteria match, or
// creates one when none does; several matches are a 412. It is an update:
// it needs the update permit whatever it finds, and the create permit
// too when it creates.
func (s *Service) ConditionalUpdate(ctx context.Context, typ string, criteria url.Values, body []byte, ifMatch string) Response {
	rights, r, ok := s.updateRights(ctx, typ)
	if !ok {
		return r
	}
	res, r, ok := s.parseFor(typ, body)
	if !ok {
		return r
	}
	// No match means create: serialised like a conditional create.
	defer s.creating.lock(conditionKey(typ, criteria))()
	found, r, ok := s.matches(ctx, typ, criteria, 1)
	if !ok {
		return r
	}
	bodyID := res.ID()
	switch len(found) {
	case 0:
		if bodyID != "" {
			return s.Update(ctx, typ, bodyID, body, ifMatch)
		}
		return s.Create(ctx, typ, body)
	case 1:
		id := found[0].ID
		if bodyID != "" && bodyID != id {
			return fail(http.StatusBadRequest, fhir.CodeInvalid,
				fmt.Sprintf("the id in the body (%q) is not the id of the resource the criteria match (%q)", bodyID, id), typ+".id")
		}
		want, r, ok := parseIfMatch(ifMatch)
		if !ok {
			return r
		}
		res.SetID(id)
		blob, r, ok := s.takeBinary(res)
		if !ok {
			return r
		}
		return s.write(ctx, res, id, writeOpts{method: store.MethodUpdate, blob: blob, ifMatch: want, rights: rights})
	}
	return fail(http.StatusPreconditionFailed, fhir.CodeDuplicate, "the criteria of the conditional update match more than one resource")
}

// ConditionalDelete deletes every resource the criteria match (up to
// maxConditionalDelete), all in one atomic commit.
func (s *Service) ConditionalDelete(ctx context.Context, typ string, criteria url.Values) Response {
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
	for attempt := 0; attempt < maxAttempts; attempt++ {
		found, r, ok := s.matches(ctx, typ, criteria, maxConditionalDelete)
		if !ok {
			return r
		}
		for i := range found {
			if r, ok := s.admitCurrent(ctx, dp, &found[i]); !ok {
				return r
			}
		}
		if len(found) > maxConditionalDelete {
			return fail(http.StatusPreconditionFailed, fhir.CodeTooLong,
				fmt.Sprintf("the criteria match more than %d resources; narrow them", maxConditionalDelete))
		}
		if len(found) == 0 {
			return Response{Status: http.StatusNoContent}
		}
		now := s.cfg.Now().UTC().Truncate(1e6)
		changes := make([]store.Change, len(found))
		touched := make([]string, len(found))
		for i, v := range found {
			changes[i] = store.Change{Type: v.Type, ID: v.ID, PrevVersion: v.VersionID, Version: v.VersionID + 1,
				LastUpdated: now, Method: store.MethodDelete, Deleted: true}
			touched[i] = v.Type + "/" + v.ID
		}
		_, err := s.commit(ctx, changes)
		if store.IsConflict(err) {
			continue // someone changed a match meanwhile: look again
		}
		if r, ok := asDenied(err); ok {
			return r
		}
		if err != nil {
			return s.internalError(ctx, "conditional delete", err)
		}
		return Response{Status: http.StatusNoContent, Touched: touched}
	}
	return tooMuchContention(typ, "(conditional delete)")
}
