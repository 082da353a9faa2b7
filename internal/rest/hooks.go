package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// This file is how other packages plug into the Service without it
// knowing them (the subscription package, the teledermatology workflow):
// a check before a version of a type is written, operations of their own,
// and additions to the CapabilityStatement.

// WriteChecker vets the versions of one resource type before they are
// written, on every write path (create, update, patch, conditional writes,
// transaction and batch entries, $meta-add and $meta-delete).
type WriteChecker interface {
	// CheckWrite sees the version about to be committed (the rendered body
	// with id and meta, its index entries) and the caller's context (its
	// grant). An outcome with errors refuses the write with 422 and is
	// returned to the client; nil lets it through. The write may still
	// fail after the check (a lost race is retried, checked again).
	CheckWrite(ctx context.Context, c store.Change) *fhir.Outcome
}

// DeleteChecker is a WriteChecker that also vets deletions (CheckWrite
// never sees them), on every path: DELETE, conditional delete, and
// transaction and batch entries. A refusal is 409 Conflict, as the spec
// has a delete refused for reasons of that resource.
type DeleteChecker interface {
	CheckDelete(ctx context.Context, typ, id string) *fhir.Outcome
}

// Operation is an operation implemented outside this package, invoked on
// one resource type.
type Operation struct {
	Name       string // without "$"
	Type       string // the resource type it is invoked on
	Definition string // canonical URL of its OperationDefinition
	// TypeLevel and InstanceLevel say where it may be invoked.
	TypeLevel, InstanceLevel bool
	// Idempotent operations also answer GET.
	Idempotent bool
	// Run answers one invocation: id is empty at type level, params are the
	// URL's, body the POSTed Parameters (nil for GET). ctx carries the
	// caller's grant.
	Run func(ctx context.Context, id string, params url.Values, body []byte) Response
}

// AccessPolicy narrows what user-level tokens reach beyond their SMART
// scopes: the teledermatology policy lets a practice's users see only
// their practice's referrals. patient/ and system/ scopes are not passed
// to it.
type AccessPolicy interface {
	// Narrowing returns search parameters every resource of typ must match
	// for the user of g to reach it (ANDed to each user/ scope's own
	// constraint), or nil when typ is not narrowed.
	Narrowing(ctx context.Context, g *access.Grant, typ string) url.Values
}

// Operations are the operations registered through Config.Operations.
func (s *Service) Operations() []Operation { return s.cfg.Operations }

// checkDeletes runs the DeleteCheckers on the deletions among changes.
func (s *Service) checkDeletes(ctx context.Context, changes []store.Change) error {
	for _, c := range changes {
		if !c.Deleted {
			continue
		}
		if dc, ok := s.cfg.WriteCheckers[c.Type].(DeleteChecker); ok {
			if o := dc.CheckDelete(ctx, c.Type, c.ID); o.HasErrors() {
				return &deniedError{failure(http.StatusConflict, o)}
			}
		}
	}
	return nil
}

// checkWrite runs the type's WriteChecker, if any, on a version about to
// be committed; a refusal comes back as a *deniedError carrying the 422.
func (s *Service) checkWrite(ctx context.Context, c store.Change, doc map[string]any) error {
	if c.Deleted {
		return nil
	}
	if o := s.checkClaimedProfiles(ctx, c, doc); o.HasErrors() {
		return &deniedError{failure(http.StatusUnprocessableEntity, o)}
	}
	wc := s.cfg.WriteCheckers[c.Type]
	if wc == nil {
		return nil
	}
	if o := wc.CheckWrite(ctx, c); o.HasErrors() {
		return &deniedError{failure(http.StatusUnprocessableEntity, o)}
	}
	return nil
}

// checkClaimedProfiles validates a version against each published profile
// its meta.profile claims (found from its _profile index entries, so the
// body is decoded only when there is one, and not at all when the caller
// has its tree, doc). Profiles the server does not publish are not
// checked: a client may claim profiles of its own.
func (s *Service) checkClaimedProfiles(ctx context.Context, c store.Change, doc map[string]any) *fhir.Outcome {
	pv := s.cfg.Profiles
	if pv == nil {
		return nil
	}
	var known []string
	for _, e := range c.Index {
		if e.Param == "_profile" && e.Kind == search.URI && pv.Knows(e.URL) {
			known = append(known, e.URL)
		}
	}
	if len(known) == 0 {
		return nil
	}
	if doc == nil {
		var err error
		if doc, err = decodeJSONObject(c.Body); err != nil {
			return fhir.NewOutcome(fhir.SeverityError, fhir.CodeInvalid, "the resource could not be read for profile validation: "+err.Error())
		}
	}
	o := &fhir.Outcome{ResourceType: "OperationOutcome"}
	for _, url := range known {
		o.Issue = append(o.Issue, pv.Validate(ctx, url, doc)...)
	}
	return o
}

// MayRead reports whether the caller in ctx (its grant; none means
// authorization is off) may read version v, by the rules a read of it
// follows. A deletion is judged by the version it deleted, as history
// shows it. Subscriptions use it to keep from a subscriber what its
// owner's scopes do not reach.
func (s *Service) MayRead(ctx context.Context, v *store.Version) (bool, error) {
	if access.FromContext(ctx) == nil {
		return true, nil
	}
	p, _, ok := s.permitFor(ctx, v.Type, access.Read)
	if !ok {
		return false, nil
	}
	if v.Deleted {
		return s.visibleDeletion(ctx, p, v.Type, v.ID, v.VersionID)
	}
	return s.admits(ctx, p, versionSubject(v), nil)
}

// operationCapabilities lists the registered operations of typ for the
// CapabilityStatement.
func (s *Service) operationCapabilities(typ string) []fhir.OperationCapability {
	var out []fhir.OperationCapability
	for _, op := range s.cfg.Operations {
		if op.Type == typ {
			out = append(out, fhir.OperationCapability{Name: op.Name, Definition: op.Definition})
		}
	}
	return out
}

// RequireOpenSearch checks that the caller may search every resource of
// typ (a user/ or system/ scope without a constraint; no grant means
// authorization is off). Operations that report across patients, such
// as the service's statistics, need it; the 403 says why otherwise.
func (s *Service) RequireOpenSearch(ctx context.Context, typ string) (Response, bool) {
	p, r, ok := s.permitFor(ctx, typ, access.Search)
	if !ok {
		return r, false
	}
	if !p.open {
		return fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
			"this operation reports across all %s resources; this token may search them only within %s (needs user/%s.s or system/%s.s without a constraint)",
			typ, p.describe(), typ, typ)), false
	}
	return Response{}, true
}
