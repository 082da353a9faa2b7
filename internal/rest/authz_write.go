package rest

import (
	"context"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// writeRights are the permits a write needs, by what it turns out to do:
// a write to an existing resource needs the update permit for the version
// there and for the one written; a create needs the create permit for the
// version written. An update that creates (update as create, a conditional
// update that matched nothing) needs only the update permit: SMART's scope
// table says "some servers allow for an update operation to create a new
// instance, and this is allowed by the update scope".
type writeRights struct {
	isUpdate bool
	update   permit
	create   permit
}

// createRights are the rights of a create of typ, or the answer that
// refuses it before anything is parsed.
func (s *Service) createRights(ctx context.Context, typ string) (writeRights, Response, bool) {
	if r, ok := s.checkType(typ); !ok {
		return writeRights{}, r, false
	}
	if typ == auditType {
		return writeRights{}, auditWriteRefused(), false
	}
	cp, r, ok := s.permitFor(ctx, typ, access.Create)
	if !ok {
		return writeRights{}, r, false
	}
	return writeRights{create: cp}, Response{}, true
}

// updateRights are the rights of an update (or patch) of typ.
func (s *Service) updateRights(ctx context.Context, typ string) (writeRights, Response, bool) {
	if r, ok := s.checkType(typ); !ok {
		return writeRights{}, r, false
	}
	if typ == auditType {
		return writeRights{}, auditWriteRefused(), false
	}
	up, r, ok := s.permitFor(ctx, typ, access.Update)
	if !ok {
		return writeRights{}, r, false
	}
	return writeRights{isUpdate: true, update: up}, Response{}, true
}

// admitTarget checks the current version of an existing target.
func (w writeRights) admitTarget(ctx context.Context, s *Service, cur *store.Version) (Response, bool) {
	if !w.isUpdate { // a create's target never exists; refuse rather than overwrite
		return w.create.outside(cur.Type + "/" + cur.ID), false
	}
	return s.admitCurrent(ctx, w.update, cur)
}

// forVersion returns the permits the version written must satisfy.
func (w writeRights) forVersion(existed bool) ([]permit, Response, bool) {
	switch {
	case existed, w.isUpdate:
		return []permit{w.update}, Response{}, true
	}
	return []permit{w.create}, Response{}, true
}
