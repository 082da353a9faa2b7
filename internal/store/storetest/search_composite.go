package storetest

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchUnsupported checks that what the store cannot answer is an
// error, never a wrong (for instance empty) result.
func testSearchUnsupported(t *testing.T, r store.Repository) {
	referralFixture(t, r)
	in := search.Predicate{Param: pCode, Modifier: ":in",
		Value: search.Value{Kind: search.Token, ValueSet: "http://telederm.example/fhir/ValueSet/lesions"}}
	near := search.Predicate{Param: param("near", search.Special),
		Value: search.Value{Kind: search.Special, Code: "51.5|-0.1|10|km"}}
	for _, tc := range []struct {
		name string
		q    search.Query
	}{
		{"token :in needs a terminology service", search.Query{Type: "ServiceRequest", Where: and(in)}},
		{"token :in OR a plain code", search.Query{Type: "ServiceRequest", Where: []search.Clause{or(qCode(pStatus, "active"), in)}}},
		{"token :in in a chain", search.Query{Type: "Media", Where: and(chain(pBasedOn, "ServiceRequest", in))}},
		{"special", search.Query{Type: "Location", Where: and(near)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Count = 10
			page, err := r.Search(t.Context(), &q)
			if err == nil {
				t.Fatalf("got %v, want an error", refsOf(page.Matches))
			}
			if len(page.Matches) != 0 || page.Next != "" {
				t.Errorf("error %v came with %d matches and Next %q", err, len(page.Matches), page.Next)
			}
		})
	}
}

// testSearchComposite checks composite parameters: every part must match
// the same composite entry (one Observation.component, say), not parts of
// different ones. A store that cannot search composites yet must say so
// with an error; it must never return a wrong result.
func testSearchComposite(t *testing.T, r store.Repository) {
	composite := func(code, value, system, unit string) search.Entry {
		return search.Entry{Param: "code-value-quantity", Kind: search.Composite, Parts: []search.Entry{
			eToken("code", sysLOINC, code), eQuantity("value-quantity", value, system, unit, unit)}}
	}
	commit(t, r,
		resource("Observation", "height", 0, composite("8302-2", "172", sysUCUM, "cm")),
		resource("Observation", "weight", 0, composite("29463-7", "70.5", sysUCUM, "kg")),
		resource("Observation", "weight-70", 0, composite("29463-7", "70", sysUCUM, "kg")),
		// Two components: height 150 cm and weight 60 kg.
		resource("Observation", "both", 0, composite("8302-2", "150", sysUCUM, "cm"), composite("29463-7", "60", sysUCUM, "kg")),
		resource("Observation", "none", 0, eToken("code", sysLOINC, "8302-2")),
	)
	q := func(system, code string, prefix search.Prefix, value, unit string) search.Predicate {
		tok := qSystemCode(param("code", search.Token), system, code)
		if system == "" {
			tok = qCode(param("code", search.Token), code)
		}
		qty := qQuantity(param("value-quantity", search.Quantity), prefix, value, "", unit)
		return search.Predicate{Param: pCodeValue, Value: search.Value{Kind: search.Composite,
			Parts: []search.Value{tok.Value, qty.Value}}}
	}
	obs := func(ids ...string) []string { return refs("Observation", ids...) }
	for _, tc := range []searchCase{
		{"code and value", search.Query{Type: "Observation", Where: and(q(sysLOINC, "8302-2", search.Gt, "100", ""))},
			obs("height", "both")},
		{"value precision", search.Query{Type: "Observation", Where: and(q("", "29463-7", search.Eq, "70", "kg"))},
			obs("weight-70")},
		{"parts of one entry, not of two", search.Query{Type: "Observation", Where: and(q("", "8302-2", search.Lt, "100", ""))},
			obs()},
		{"parts of one entry, unit", search.Query{Type: "Observation", Where: and(q("", "8302-2", search.Eq, "60", "kg"))},
			obs()},
		{"second component", search.Query{Type: "Observation", Where: and(q("", "29463-7", search.Eq, "60", "kg"))},
			obs("both")},
		{"OR", search.Query{Type: "Observation", Where: []search.Clause{
			or(q("", "29463-7", search.Eq, "60", ""), q("", "29463-7", search.Eq, "70", ""))}},
			obs("weight-70", "both")},
		{"AND of two composites on different entries", search.Query{Type: "Observation", Where: and(
			q("", "8302-2", search.Eq, "150", "cm"), q("", "29463-7", search.Eq, "60", "kg"))},
			obs("both")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Count = 10
			page, err := r.Search(t.Context(), &q)
			if err != nil {
				if len(page.Matches) != 0 || page.Next != "" {
					t.Errorf("error %v came with %d matches and Next %q", err, len(page.Matches), page.Next)
				}
				t.Logf("composite search not supported: %v", err)
				return
			}
			if got := refsOf(page.Matches); !slices.Equal(got, tc.want) {
				t.Errorf("matches %v, want %v", got, tc.want)
			}
		})
	}
	// :missing needs no composite matching.
	runSearchCases(t, r, []searchCase{
		{":missing=false", search.Query{Type: "Observation", Where: and(qMissing(pCodeValue, false))},
			obs("height", "weight", "weight-70", "both")},
		{":missing=true", search.Query{Type: "Observation", Where: and(qMissing(pCodeValue, true))}, obs("none")},
	})
}
