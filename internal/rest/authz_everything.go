package rest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// everythingScope is how the caller's scopes shape a $everything: it is a
// search of every type of the Patient compartment, so each type needs the
// caller's search permit.
type everythingScope struct {
	// id is the patient whose record is searched; a token confined to its
	// patient asking for every patient's record gets its own.
	id string
	// leftOut are the types the caller may not search here, with the
	// reason to give when _type names one ("" to say nothing).
	leftOut map[string]string
	// screened are the types whose permit a compartment query cannot
	// carry (granular constraints): their matches are checked one by one.
	screened map[string]*permit
}

// everythingScope decides the types and patient of a $everything on
// Patient/id (id empty: every patient).
func (s *Service) everythingScope(ctx context.Context, id string) (everythingScope, Response, bool) {
	es := everythingScope{id: id, leftOut: map[string]string{}, screened: map[string]*permit{}}
	g := access.FromContext(ctx)
	if g == nil {
		return es, Response{}, true
	}
	kept, otherPatient := 0, false
	var open, confined bool
	for _, t := range fhir.CompartmentTypes("Patient") {
		p, _, ok := s.permitFor(ctx, t, access.Search)
		if !ok {
			es.leftOut[t] = "this token may not search it"
			continue
		}
		if p.open {
			open = true
			kept++
			continue
		}
		res, _, ok := p.restrictionFor(nil, nil)
		switch {
		case id != "" && confinedElsewhere(p, id):
			es.leftOut[t] = ""
			otherPatient = true
			continue
		case ok && res.patient != "" && len(res.where) == 0:
			confined = true
		default:
			es.screened[t] = &p
		}
		kept++
	}
	switch {
	case kept == 0 && otherPatient:
		return es, notKnown("Patient", id), false
	case kept == 0:
		return es, fail(http.StatusForbidden, fhir.CodeForbidden, "this token has no scope allowing search of any type of the Patient compartment, which $everything needs"), false
	case id == "" && confined && open:
		return es, fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
			"this token may search some types only in Patient/%s's compartment; ask for Patient/%s/$everything", g.Patient, g.Patient)), false
	case id == "" && confined:
		es.id = g.Patient
	}
	return es, Response{}, true
}

// screen keeps the matches of screened types that the caller's permit
// admits; screened reports whether any type was screened (the page's total
// then counts resources the caller does not see).
func (es everythingScope) screen(ctx context.Context, s *Service, vs []store.Version) ([]store.Version, bool, error) {
	if len(es.screened) == 0 {
		return vs, false, nil
	}
	out := make([]store.Version, 0, len(vs))
	for i := range vs {
		p := es.screened[vs[i].Type]
		if p == nil {
			out = append(out, vs[i])
			continue
		}
		ok, err := s.admits(ctx, *p, versionSubject(&vs[i]), nil)
		if err != nil {
			return nil, true, err
		}
		if ok {
			out = append(out, vs[i])
		}
	}
	return out, true, nil
}

// confinedElsewhere reports whether every rule of p is confined to a
// patient other than id: nothing of Patient/id's record is the caller's.
func confinedElsewhere(p permit, id string) bool {
	for _, r := range p.rules {
		if r.patient == "" || r.patient == id {
			return false
		}
	}
	return true
}
