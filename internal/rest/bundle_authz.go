package rest

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
)

// authorizePlan checks every planned entry of a transaction against the
// caller's scopes, once all are planned (so that a Binary's securityContext
// may name a resource another entry creates): the version each write
// replaces or deletes, and the version it writes. The first entry refused,
// in processing order, fails the whole transaction before anything is
// stored.
func (s *Service) authorizePlan(ctx context.Context, plan *txPlan, order []int) (Response, bool) {
	if access.FromContext(ctx) == nil {
		return Response{}, true
	}
	pending := planned{}
	for _, e := range plan.entries {
		for _, c := range e.pending {
			if !c.Deleted {
				pending[c.Type+"/"+c.ID] = changeSubject(c)
			}
		}
	}
	for _, i := range order {
		e := plan.entries[i]
		switch e.op {
		case opRead, opMatched: // checked when resolved, and when run
			continue
		case opDelete:
			for j := range e.deletes {
				if r, ok := s.admitCurrent(ctx, e.del, &e.deletes[j]); !ok {
					return entryFailure(e.inEntry, r, ""), false
				}
			}
			continue
		}
		if e.exists {
			if r, ok := e.rights.admitTarget(ctx, s, e.cur); !ok {
				return entryFailure(e.inEntry, r, ""), false
			}
		}
		permits, r, ok := e.rights.forVersion(e.exists)
		if !ok {
			return entryFailure(e.inEntry, r, ""), false
		}
		for _, c := range e.pending {
			if err := s.admitChange(ctx, c, pending, permits...); err != nil {
				if r, denied := asDenied(err); denied {
					return entryFailure(e.inEntry, r, ""), false
				}
				return s.internalError(ctx, "transaction", err), false
			}
		}
	}
	return Response{}, true
}

// storePlanBlobs stores the Binary content of an allowed plan, on up to
// GOMAXPROCS goroutines, and points each change at its content.
func (s *Service) storePlanBlobs(ctx context.Context, plan *txPlan) error {
	var todo []*txEntry
	for _, e := range plan.entries {
		if e.blob.data != nil && len(e.pending) == 1 {
			todo = append(todo, e)
		}
	}
	errs := make([]error, len(todo))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, e := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ref, err := s.blobs.Put(ctx, e.blob.data)
			if err != nil {
				errs[i] = fmt.Errorf("store binary of %s/%s: %w", e.typ, e.id, err)
				return
			}
			e.pending[0].BlobRef = ref
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// readAllowed checks, before a transaction commits, that the caller has a
// scope for the read, search or history a GET entry names. Which
// resources it may see is decided when the entry runs.
func (s *Service) readAllowed(ctx context.Context, u entryURL) (Response, bool) {
	g := access.FromContext(ctx)
	if g == nil {
		return Response{}, true
	}
	seg := u.segments
	var typ string
	op := access.Search
	switch {
	case len(seg) == 0 || seg[0] == "_history":
		for _, sc := range g.Scopes.Resource {
			if sc.Allows(access.Search) {
				return Response{}, true
			}
		}
		return fail(http.StatusForbidden, fhir.CodeForbidden, "this token has no scope allowing search of any resource type"), false
	case len(seg) == 1 || (len(seg) == 2 && (seg[1] == "_history" || seg[1] == "_search")):
		typ = seg[0]
	case len(seg) == 3 && seg[2] != "_history":
		if typ = seg[2]; typ == "*" {
			return Response{}, true // each member type is checked when it runs
		}
	default: // Type/id, Type/id/_history, Type/id/_history/vid
		typ, op = seg[0], access.Read
	}
	if !fhir.IsResourceType(typ) {
		return Response{}, true // the entry answers that itself
	}
	_, r, ok := s.permitFor(ctx, typ, op)
	return r, ok
}
