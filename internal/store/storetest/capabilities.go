package storetest

import (
	"errors"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// Feature is a search feature a backend may not translate yet.
type Feature string

const (
	FeatureChain       Feature = "chained parameters"
	FeatureHas         Feature = "_has (reverse chains)"
	FeatureInclude     Feature = "_include and _revinclude"
	FeatureComposite   Feature = "composite parameters"
	FeatureList        Feature = "_list"
	FeatureAnyOwner    Feature = "a compartment of every owner (Patient/$everything without an id)"
	FeatureCompartment Feature = "compartment searches"
)

// Capabilities is what a backend declares it cannot do yet. A search case
// that needs an unsupported feature is still run: the backend must refuse
// it with an error wrapping store.ErrNotSupported (never answer it
// wrongly), and the case then skips with the declared reason.
type Capabilities struct {
	// Unsupported maps each missing feature to why it is missing; the
	// reason should name the issue that tracks it.
	Unsupported map[Feature]string
}

// RunRepositoryTestsWith is RunRepositoryTests for a backend that declares
// missing features.
func RunRepositoryTestsWith(t *testing.T, newRepo func(t *testing.T) store.Repository, caps Capabilities) {
	runRepositoryTests(t, func(t *testing.T) store.Repository {
		return declared{newRepo(t), caps}
	})
}

// declared carries a backend's Capabilities to the search groups, which
// only see the repository.
type declared struct {
	store.Repository
	caps Capabilities
}

func capabilitiesOf(r store.Repository) Capabilities {
	if d, ok := r.(declared); ok {
		return d.caps
	}
	return Capabilities{}
}

// featuresOf lists the features q needs, in a fixed order.
func featuresOf(q *search.Query) []Feature {
	need := map[Feature]bool{}
	var visit func(p search.Predicate)
	visit = func(p search.Predicate) {
		switch {
		case p.Chain != nil:
			need[FeatureChain] = true
			visit(p.Chain.Next)
		case p.Has != nil:
			need[FeatureHas] = true
			visit(p.Has.Next)
		case p.Param != nil && p.Param.Type == search.Composite:
			need[FeatureComposite] = true
		case p.Param != nil && p.Param.Code == "_list":
			need[FeatureList] = true
		}
	}
	for _, cl := range q.Where {
		for _, p := range cl.Any {
			visit(p)
		}
	}
	if len(q.Include) > 0 || len(q.RevInclude) > 0 {
		need[FeatureInclude] = true
	}
	if c := q.Compartment; c != nil {
		need[FeatureCompartment] = true
		if c.AnyOwner {
			need[FeatureAnyOwner] = true
		}
	}
	var out []Feature
	for _, f := range []Feature{FeatureChain, FeatureHas, FeatureInclude, FeatureComposite, FeatureList, FeatureCompartment, FeatureAnyOwner} {
		if need[f] {
			out = append(out, f)
		}
	}
	return out
}

// skipUnsupported skips the test when q needs a feature r declares
// unsupported, after checking that r refuses q with ErrNotSupported.
func skipUnsupported(t *testing.T, r store.Repository, q search.Query) {
	t.Helper()
	caps := capabilitiesOf(r)
	for _, f := range featuresOf(&q) {
		why, missing := caps.Unsupported[f]
		if !missing {
			continue
		}
		if q.Count == 0 {
			q.Count = 10
		}
		page, err := r.Search(t.Context(), &q)
		if !errors.Is(err, store.ErrNotSupported) || len(page.Matches) != 0 || len(page.Included) != 0 {
			t.Fatalf("%s is declared unsupported, but Search gave %d matches and error %v; want only an error wrapping store.ErrNotSupported",
				f, len(page.Matches), err)
		}
		t.Skipf("%s not supported by this backend (%s): %v", f, why, err)
	}
}
