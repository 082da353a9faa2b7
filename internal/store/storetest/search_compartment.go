package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// patientLinks is the fixture's part of the R4 Patient compartment: the
// member types and the parameters that link them to the patient.
var patientLinks = map[string][]string{
	"ServiceRequest":        {"subject", "performer"},
	"Media":                 {"subject"},
	"DiagnosticReport":      {"subject"},
	"Observation":           {"subject", "performer"},
	"QuestionnaireResponse": {"subject", "author"},
}

// testSearchCompartments checks whole-compartment searches across types
// (Patient/$everything): one owner or every owner, with or without the
// owner itself, narrowed by type and by other predicates, and paged.
func testSearchCompartments(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	everything := func(name, id string, types []string, withOwner bool, want []string, ps ...search.Predicate) searchCase {
		return searchCase{name, search.Query{Types: types, Where: and(ps...),
			Compartment: &search.Compartment{Type: "Patient", ID: id, ByType: patientLinks, WithOwner: withOwner, AnyOwner: id == ""}}, want}
	}
	pat1 := []string{"Patient/pat-1", "ServiceRequest/sr-1", "Media/med-1", "Media/med-2",
		"DiagnosticReport/dr-1", "Observation/obs-1", "Observation/obs-2"}
	runSearchCases(t, r, []searchCase{
		everything("one patient, every type, in creation order", "pat-1", nil, true, pat1),
		everything("without the owner", "pat-1", nil, false, pat1[1:]),
		everything("narrowed to types", "pat-1", []string{"Observation", "Media"}, true,
			[]string{"Media/med-1", "Media/med-2", "Observation/obs-1", "Observation/obs-2"}),
		everything("owner type only", "pat-1", []string{"Patient"}, true, []string{"Patient/pat-1"}),
		everything("AND a predicate", "pat-1", nil, true, []string{"Observation/obs-1"}, qCode(pCode, "8302-2")),
		everything("skips deleted members", "pat-2", nil, true,
			[]string{"Patient/pat-2", "ServiceRequest/sr-2", "Media/med-3", "DiagnosticReport/dr-2",
				"Observation/obs-3", "Observation/obs-5", "QuestionnaireResponse/qr-3"}),
		// obs-6 points at Group/pat-1, qr-1 and qr-2 at an identifier only.
		everything("only references to the owner's type", "pat-3", nil, true,
			[]string{"Patient/pat-3", "ServiceRequest/sr-3", "Observation/obs-4"}),
		everything("an unknown owner has nothing", "pat-404", nil, true, []string{}),
		// pat-5 is deleted: neither it nor sr-5, which points at it, is in
		// the union.
		everything("every owner", "", nil, true, []string{
			"Patient/pat-1", "Patient/pat-2", "Patient/pat-3", "Patient/pat-4", "Patient/pat-6", "Patient/pat-7",
			"ServiceRequest/sr-1", "ServiceRequest/sr-2", "ServiceRequest/sr-3", "ServiceRequest/sr-4",
			"Media/med-1", "Media/med-2", "Media/med-3", "DiagnosticReport/dr-1", "DiagnosticReport/dr-2",
			"Observation/obs-1", "Observation/obs-2", "Observation/obs-3", "Observation/obs-4", "Observation/obs-5",
			"QuestionnaireResponse/qr-3"}),
		everything("every owner, narrowed", "", []string{"DiagnosticReport", "Media"}, true,
			[]string{"Media/med-1", "Media/med-2", "Media/med-3", "DiagnosticReport/dr-1", "DiagnosticReport/dr-2"}),
		everything("every owner, without owners", "", []string{"Patient", "DiagnosticReport"}, false,
			[]string{"DiagnosticReport/dr-1", "DiagnosticReport/dr-2"}),
	})

	t.Run("no owner id without AnyOwner", func(t *testing.T) {
		q := search.Query{Count: 10, Compartment: &search.Compartment{Type: "Patient", ByType: patientLinks}}
		if _, err := r.Search(t.Context(), &q); err == nil {
			t.Error("a compartment with neither an id nor AnyOwner searched without an error")
		}
	})

	t.Run("paged while writing", func(t *testing.T) {
		q := search.Query{Count: 2, Compartment: &search.Compartment{Type: "Patient", ID: "pat-1", ByType: patientLinks, WithOwner: true}}
		var seen []string
		for page := 0; ; page++ {
			p, err := r.Search(t.Context(), &q)
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			if len(p.Matches) > q.Count {
				t.Fatalf("page %d has %d matches, want at most %d", page, len(p.Matches), q.Count)
			}
			seen = append(seen, refsOf(p.Matches)...)
			if p.Next == "" {
				break
			}
			// Between pages: a new member, a non-member, and an update of
			// a member already seen (it keeps its place).
			cur := current(t, r, "Observation", "obs-1")
			upd := write("Observation", "obs-1", cur.VersionID+1, minute(20+page))
			upd.Index = []search.Entry{eRef("subject", "Patient", "pat-1")}
			commit(t, r,
				resource("Observation", fmt.Sprintf("new-%d", page), 30, eRef("subject", "Patient", "pat-1")),
				resource("Observation", fmt.Sprintf("other-%d", page), 30, eRef("subject", "Patient", "pat-2")),
				upd)
			q.Cursor = p.Next
		}
		counts := map[string]int{}
		for _, ref := range seen {
			counts[ref]++
		}
		for ref, n := range counts {
			if n > 1 {
				t.Errorf("%s returned %d times", ref, n)
			}
		}
		for _, ref := range pat1 {
			if counts[ref] != 1 {
				t.Errorf("%s: returned %d times, want once", ref, counts[ref])
			}
		}
		for ref := range counts {
			if !slices.Contains(pat1, ref) && !strings.HasPrefix(ref, "Observation/new-") {
				t.Errorf("%s is not in pat-1's compartment but was returned", ref)
			}
		}
	})
}
