package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// subject is one resource checked against a permit: its JSON (stored, or
// as about to be stored) and its index entries, extracted only for a
// granular constraint (a compartment test decodes and evaluates the
// compartment parameters alone).
type subject struct {
	typ, id string
	body    []byte
	index   []search.Entry
	indexed bool
}

func versionSubject(v *store.Version) *subject {
	return &subject{typ: v.Type, id: v.ID, body: v.Body}
}

// changeSubject is a version about to be committed, already indexed.
func changeSubject(c store.Change) *subject {
	return &subject{typ: c.Type, id: c.ID, body: c.Body, index: c.Index, indexed: true}
}

func (s *Service) entriesOf(sub *subject) ([]search.Entry, error) {
	if !sub.indexed {
		es, err := s.indexEntries(sub.typ, sub.body)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", sub.typ, sub.id, err)
		}
		sub.index, sub.indexed = es, true
	}
	return sub.index, nil
}

// planned holds the versions a transaction is about to write, by
// "Type/id", so that a Binary's securityContext may name a resource
// created in the same transaction.
type planned map[string]*subject

// admits reports whether p allows the resource: it is in the compartment
// of a rule's patient (when the rule has one) and matches the rule's
// constraint (when it has one), for at least one rule. A constraint is
// matched against the resource's index entries, as a search would match
// it.
func (s *Service) admits(ctx context.Context, p permit, sub *subject, pending planned) (bool, error) {
	if p.open {
		return true, nil
	}
	// Every confined rule has the grant's one patient: test once.
	var member, tested bool
	for _, r := range p.rules {
		if r.broken != "" {
			continue
		}
		if r.patient != "" {
			if !tested {
				var err error
				if member, err = s.inCompartment(ctx, r.patient, sub, pending, true); err != nil {
					return false, err
				}
				tested = true
			}
			if !member {
				continue
			}
		}
		if len(r.where) > 0 {
			es, err := s.entriesOf(sub)
			if err != nil {
				return false, err
			}
			if !matchAll(r.where, es) {
				continue
			}
		}
		return true, nil
	}
	return false, nil
}

func matchAll(where []search.Clause, es []search.Entry) bool {
	for _, c := range where {
		if !c.MatchEntries(es) {
			return false
		}
	}
	return true
}

// inCompartment reports whether the resource is in Patient/pid's
// compartment (R4 CompartmentDefinition patient): the Patient itself, or
// a resource of a member type that refers to it through one of its
// type's compartment parameters (a Patient that links to it included).
// Types outside the compartment (Practitioner, Organization, Medication
// ...) are not in it. A Binary is in it when its securityContext, the
// resource FHIR says governs access to it, is the Patient or a resource
// in the compartment (followBinary: once, never through another Binary).
func (s *Service) inCompartment(ctx context.Context, pid string, sub *subject, pending planned, followBinary bool) (bool, error) {
	if sub.typ == "Patient" && sub.id == pid {
		return true, nil
	}
	if sub.typ == "Binary" {
		if !followBinary {
			return false, nil
		}
		return s.binaryInCompartment(ctx, pid, sub, pending)
	}
	links, ok := fhir.CompartmentParams("Patient", sub.typ)
	if !ok {
		return false, nil
	}
	if sub.indexed { // a version being written comes with its index
		return refersTo(sub.index, links, "Patient", pid), nil
	}
	in, err := s.compartmentLinks().refer(sub.typ, sub.body, pid)
	if err != nil {
		return false, fmt.Errorf("%s/%s: compartment: %w", sub.typ, sub.id, err)
	}
	return in, nil
}

// refersTo reports whether one of the entries of params is a reference to
// typ/id.
func refersTo(es []search.Entry, params []string, typ, id string) bool {
	for _, e := range es {
		if e.Kind == search.Reference && e.RefID == id && e.RefType == typ && slices.Contains(params, e.Param) {
			return true
		}
	}
	return false
}

func (s *Service) binaryInCompartment(ctx context.Context, pid string, sub *subject, pending planned) (bool, error) {
	typ, id, ok := s.securityContext(sub.body)
	if !ok {
		return false, nil
	}
	if typ == "Patient" && id == pid {
		return true, nil
	}
	if other := pending[typ+"/"+id]; other != nil {
		return s.inCompartment(ctx, pid, other, nil, false)
	}
	v, err := s.repo.Current(ctx, typ, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case v.Deleted:
		return false, nil
	}
	return s.inCompartment(ctx, pid, versionSubject(v), nil, false)
}

// securityContext reads Binary.securityContext as a local "Type/id".
func (s *Service) securityContext(body []byte) (typ, id string, ok bool) {
	var b struct {
		SecurityContext *struct {
			Reference string `json:"reference"`
		} `json:"securityContext"`
	}
	if json.Unmarshal(body, &b) != nil || b.SecurityContext == nil {
		return "", "", false
	}
	ref := strings.TrimPrefix(b.SecurityContext.Reference, s.cfg.BaseURL+"/")
	typ, id, ok = strings.Cut(ref, "/")
	if !ok || !fhir.IsResourceType(typ) || !validID(id) {
		return "", "", false
	}
	return typ, id, true
}

// notKnown is the answer to a read of a resource that does not exist, and
// to one the caller may not see: a patient-confined token learns nothing
// about other patients' records, not even that they exist.
func notKnown(typ, id string) Response {
	return fail(http.StatusNotFound, fhir.CodeNotFound, fmt.Sprintf("%s/%s is not known", typ, id))
}

// visible answers whether the caller may see version v under p; a
// resource it may not see is "not known".
func (s *Service) visible(ctx context.Context, p permit, v *store.Version) (Response, bool) {
	if p.open {
		return Response{}, true
	}
	ok, err := s.admits(ctx, p, versionSubject(v), nil)
	if err != nil {
		return s.internalError(ctx, "access check", err), false
	}
	if !ok {
		return notKnown(v.Type, v.ID), false
	}
	return Response{}, true
}

// visibleDeletion screens a deletion (a 410 answer or a tombstone in
// history) from a confined caller: it is shown only when the version
// before it, the last one with content, is one the caller may see.
func (s *Service) visibleDeletion(ctx context.Context, p permit, typ, id string, tombstone int64) (bool, error) {
	if p.open {
		return true, nil
	}
	if tombstone < 2 {
		return false, nil
	}
	prev, err := s.repo.Version(ctx, typ, id, tombstone-1)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if prev.Deleted {
		return s.visibleDeletion(ctx, p, typ, id, prev.VersionID)
	}
	return s.admits(ctx, p, versionSubject(prev), nil)
}

// screenGone turns a 410 for a deleted resource into 404 when the caller
// may not see what was deleted.
func (s *Service) screenGone(ctx context.Context, p permit, typ, id string, resp Response) Response {
	if resp.Status != http.StatusGone || p.open {
		return resp
	}
	ok, err := s.visibleDeletion(ctx, p, typ, id, resp.Version)
	if err != nil {
		return s.internalError(ctx, "access check", err)
	}
	if !ok {
		return notKnown(typ, id)
	}
	return resp
}

// deniedError carries the 403 of a write whose new version is outside the
// caller's scopes through the commit path's error returns.
type deniedError struct{ resp Response }

func (e *deniedError) Error() string { return "outside the caller's scopes" }

func asDenied(err error) (Response, bool) {
	var d *deniedError
	if errors.As(err, &d) {
		return d.resp, true
	}
	return Response{}, false
}

// admitChange checks a version about to be committed against each permit
// the write needs; the first that refuses it gives the 403.
func (s *Service) admitChange(ctx context.Context, c store.Change, pending planned, permits ...permit) error {
	sub := changeSubject(c)
	for _, p := range permits {
		ok, err := s.admits(ctx, p, sub, pending)
		if err != nil {
			return err
		}
		if !ok {
			return &deniedError{p.outside(c.Type + "/" + c.ID)}
		}
	}
	return nil
}

// admitCurrent checks the current version of a write's target.
func (s *Service) admitCurrent(ctx context.Context, p permit, cur *store.Version) (Response, bool) {
	ok, err := s.admits(ctx, p, versionSubject(cur), nil)
	if err != nil {
		return s.internalError(ctx, "access check", err), false
	}
	if !ok {
		return p.outside(cur.Type + "/" + cur.ID), false
	}
	return Response{}, true
}
