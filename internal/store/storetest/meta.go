package storetest

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testMetaInUse checks the profiles, tags and security labels a store
// reports in use: those of current, live resources only, each once, per
// type or for the whole system.
func testMetaInUse(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	const (
		sysTag = "http://telederm.example/tags"
		sysSec = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
		prof   = "http://telederm.example/fhir/StructureDefinition/"
	)
	tag := func(code string) search.Entry { return eToken("_tag", sysTag, code) }
	sec := func(code string) search.Entry { return eToken("_security", sysSec, code) }
	profile := func(name string) search.Entry { return eURI("_profile", prof+name) }

	commit(t, r,
		resource("Patient", "p1", 0, tag("sandbox"), sec("R"), profile("patient")),
		resource("Patient", "p2", 0, tag("sandbox"), tag("vip"), eToken("gender", sysGender, "female")),
		resource("Patient", "p3", 0, tag("gone")),
		resource("Patient", "p4", 0, tag("old"), profile("old-patient")),
		resource("Observation", "o1", 0, eToken("_tag", "", "bare"), sec("N"), profile("checklist")),
		resource("Organization", "org", 0),
	)
	// p3 is deleted and p4 updated: their old values are no longer in use.
	p4 := write("Patient", "p4", 2, minute(1))
	p4.Index = []search.Entry{tag("new")}
	commit(t, r, tombstone("Patient", "p3", 2, minute(1)), p4)

	coding := func(system string, codes ...string) []store.Coding {
		var out []store.Coding
		for _, c := range codes {
			out = append(out, store.Coding{System: system, Code: c})
		}
		return out
	}
	cases := []struct {
		name string
		typ  string
		want store.MetaSummary
	}{
		{"one type", "Patient", store.MetaSummary{
			Profiles: []string{prof + "patient"},
			Tags:     coding(sysTag, "new", "sandbox", "vip"),
			Security: coding(sysSec, "R"),
		}},
		{"another type", "Observation", store.MetaSummary{
			Profiles: []string{prof + "checklist"},
			Tags:     coding("", "bare"),
			Security: coding(sysSec, "N"),
		}},
		{"a type without meta", "Organization", store.MetaSummary{}},
		{"a type without resources", "Media", store.MetaSummary{}},
		{"every type", "", store.MetaSummary{
			Profiles: []string{prof + "checklist", prof + "patient"},
			Tags:     append(coding("", "bare"), coding(sysTag, "new", "sandbox", "vip")...),
			Security: coding(sysSec, "N", "R"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.MetaInUse(t.Context(), tc.typ)
			if err != nil {
				t.Fatalf("MetaInUse(%q): %v", tc.typ, err)
			}
			if !slices.Equal(got.Profiles, tc.want.Profiles) {
				t.Errorf("profiles %v, want %v", got.Profiles, tc.want.Profiles)
			}
			if !slices.Equal(got.Tags, tc.want.Tags) {
				t.Errorf("tags %v, want %v", got.Tags, tc.want.Tags)
			}
			if !slices.Equal(got.Security, tc.want.Security) {
				t.Errorf("security %v, want %v", got.Security, tc.want.Security)
			}
		})
	}
}
