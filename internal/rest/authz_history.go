package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// historyScreen decides which versions of a history the caller sees.
// Instance history is a read (r), type and system history are searches
// (s). The store pages history without knowing scopes, so versions are
// screened one by one: a confined caller's page can hold fewer entries
// than _count, never other patients' versions.
type historyScreen struct {
	open    bool
	op      access.Op
	permits map[string]*permit // by type; nil: the type is not shown
}

// historyScreen builds the screen of a history of typ/id (either may be
// empty), or the 403 when the caller may not see any of it.
func (s *Service) historyScreen(ctx context.Context, typ, id string) (*historyScreen, Response, bool) {
	g := access.FromContext(ctx)
	if g == nil {
		return &historyScreen{open: true}, Response{}, true
	}
	h := &historyScreen{op: access.Search, permits: map[string]*permit{}}
	if id != "" {
		h.op = access.Read
	}
	if typ != "" {
		p, r, ok := s.permitFor(ctx, typ, h.op)
		if !ok {
			return nil, r, false
		}
		h.permits[typ] = &p
		return h, Response{}, true
	}
	for _, sc := range g.Scopes.Resource {
		if sc.Allows(access.Search) {
			return h, Response{}, true
		}
	}
	return nil, fail(http.StatusForbidden, fhir.CodeForbidden, "this token has no scope allowing search of any resource type, which the history of the whole system needs"), false
}

func (h *historyScreen) permitOf(ctx context.Context, s *Service, typ string) *permit {
	p, seen := h.permits[typ]
	if !seen {
		if pp, _, ok := s.permitFor(ctx, typ, h.op); ok {
			p = &pp
		}
		h.permits[typ] = p
	}
	return p
}

// instance answers whether the caller may see the history of typ/id at
// all: its current version (or, when deleted, its last one with content)
// must be one it may read. Otherwise the resource is "not known".
func (h *historyScreen) instance(ctx context.Context, s *Service, typ, id string) (Response, bool) {
	if h.open {
		return Response{}, true
	}
	p := h.permits[typ]
	if p.open {
		return Response{}, true
	}
	cur, err := s.repo.Current(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return notKnown(typ, id), false
	}
	if err != nil {
		return s.internalError(ctx, "history", err), false
	}
	var ok bool
	if cur.Deleted {
		ok, err = s.visibleDeletion(ctx, *p, typ, id, cur.VersionID)
	} else {
		ok, err = s.admits(ctx, *p, versionSubject(cur), nil)
	}
	if err != nil {
		return s.internalError(ctx, "history", err), false
	}
	if !ok {
		return notKnown(typ, id), false
	}
	return Response{}, true
}

// shows reports whether version v appears in the history: its content is
// allowed, or, for a deletion, the content before it was.
func (h *historyScreen) shows(ctx context.Context, s *Service, v *store.Version) (bool, error) {
	if h.open {
		return true, nil
	}
	p := h.permitOf(ctx, s, v.Type)
	switch {
	case p == nil:
		return false, nil
	case p.open:
		return true, nil
	case v.Deleted:
		return s.visibleDeletion(ctx, *p, v.Type, v.ID, v.VersionID)
	}
	return s.admits(ctx, *p, versionSubject(v), nil)
}
