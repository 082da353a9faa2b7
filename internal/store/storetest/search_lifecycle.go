package storetest

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchLifecycle follows one resource through create, update, delete
// and re-create, and checks after each step that exactly the current
// version's entries match: an update replaces every old entry, a deletion
// leaves nothing that matches (not even :missing or :not), and re-creating
// brings only the new entries back. Its references follow it too: chains,
// _has and _include reach it only while it lives.
func testSearchLifecycle(t *testing.T, r store.Repository) {
	patient := func(version int64, family, gender string, birth span, org string) store.Change {
		c := write("Patient", "p", version, minute(int(version)))
		c.Index = []search.Entry{eString("family", family), eToken("gender", sysGender, gender),
			eDate("birthdate", birth), eRef("organization", "Organization", org)}
		return c
	}
	commit(t, r,
		resource("Organization", "o1", 0, eString("name", "First")),
		resource("Organization", "o2", 0, eString("name", "Second")),
		resource("Patient", "other", 0, eString("family", "Other")),
		resource("ServiceRequest", "sr", 0, eRef("subject", "Patient", "p")),
	)
	type check struct {
		name string
		q    search.Query
		live []string // matches while the step's version is current
	}
	p := []string{"Patient/p"}
	none := []string{}
	patients := func(name string, want []string, ps ...search.Predicate) check {
		return check{name, search.Query{Type: "Patient", Where: and(ps...)}, want}
	}
	srs := func(name string, want []string, ps ...search.Predicate) check {
		return check{name, search.Query{Type: "ServiceRequest", Where: and(ps...)}, want}
	}
	sr := []string{"ServiceRequest/sr"}
	steps := []struct {
		name   string
		change store.Change
		checks []check
	}{
		{"created", patient(1, "Alpha", "female", years(1970), "o1"), []check{
			patients("string", p, qString(pFamily, "alpha")),
			patients("token", p, qCode(pGender, "female")),
			patients("date", p, qDate(pBirthdate, search.Eq, years(1970))),
			patients("reference", p, qRef(pOrg, "Organization", "o1")),
			patients(":missing", []string{"Patient/other"}, qMissing(pGender, true)),
			patients(":not", append([]string{"Patient/other"}, p...), modified(":not", qCode(pGender, "male"))),
			srs("chain", sr, chain(pSubject, "Patient", qString(pFamily, "alpha"))),
			{"_has", search.Query{Type: "Organization", Where: and(has("Patient", pOrg, qCode(pGender, "female")))},
				[]string{"Organization/o1"}},
		}},
		{"updated", patient(2, "Beta", "male", years(1980), "o2"), []check{
			patients("old string", none, qString(pFamily, "alpha")),
			patients("new string", p, qString(pFamily, "beta")),
			patients("old token", none, qCode(pGender, "female")),
			patients("new token", p, qCode(pGender, "male")),
			patients("old date", none, qDate(pBirthdate, search.Eq, years(1970))),
			patients("new date", p, qDate(pBirthdate, search.Eq, years(1980))),
			patients("old reference", none, qRef(pOrg, "Organization", "o1")),
			patients("new reference", p, qRef(pOrg, "Organization", "o2")),
			patients(":not old value", append([]string{"Patient/other"}, p...), modified(":not", qCode(pGender, "female"))),
			patients(":not new value", []string{"Patient/other"}, modified(":not", qCode(pGender, "male"))),
			srs("chain old", none, chain(pSubject, "Patient", qString(pFamily, "alpha"))),
			srs("chain new", sr, chain(pSubject, "Patient", qString(pFamily, "beta"))),
			{"_has old", search.Query{Type: "Organization", Where: and(has("Patient", pOrg, qCode(pGender, "female")))}, none},
			{"_has new", search.Query{Type: "Organization", Where: and(has("Patient", pOrg, qCode(pGender, "male")))},
				[]string{"Organization/o2"}},
		}},
		{"deleted", tombstone("Patient", "p", 3, minute(3)), []check{
			patients("string", none, qString(pFamily, "beta")),
			patients("token", none, qCode(pGender, "male")),
			patients(":missing=true", []string{"Patient/other"}, qMissing(pGender, true)),
			patients(":not", []string{"Patient/other"}, modified(":not", qCode(pGender, "male"))),
			patients("no predicates", []string{"Patient/other"}),
			srs("chain", none, chain(pSubject, "Patient", qMissing(pGender, true))),
			srs("reference to the deleted resource still indexed", sr, qRef(pSubject, "Patient", "p")),
			{"_has", search.Query{Type: "Organization", Where: and(has("Patient", pOrg, qMissing(pGender, false)))}, none},
		}},
		{"re-created", patient(4, "Gamma", "other", years(1990), "o1"), []check{
			patients("old string", none, qString(pFamily, "beta")),
			patients("new string", p, qString(pFamily, "gamma")),
			patients("token", p, qCode(pGender, "other")),
			patients(":missing=true", []string{"Patient/other"}, qMissing(pGender, true)),
			srs("chain", sr, chain(pSubject, "Patient", qString(pFamily, "gamma"))),
		}},
	}
	for _, step := range steps {
		commit(t, r, step.change)
		for _, c := range step.checks {
			t.Run(step.name+"/"+c.name, func(t *testing.T) {
				page := searchAll(t, r, c.q)
				if got := refsOf(page.Matches); !slices.Equal(got, c.live) {
					t.Errorf("matches %v, want %v", got, c.live)
				}
				checkCurrent(t, r, page.Matches)
			})
		}
		t.Run(step.name+"/include", func(t *testing.T) {
			page := searchAll(t, r, search.Query{Type: "ServiceRequest",
				Include: []search.Include{{SourceType: "ServiceRequest", Param: pSubject}}})
			want := p
			if step.change.Deleted {
				want = none
			}
			if got := refsOf(page.Included); !slices.Equal(got, want) {
				t.Errorf("included %v, want %v", got, want)
			}
			checkCurrent(t, r, page.Included)
		})
	}
}
