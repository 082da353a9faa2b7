package search

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

func TestStringSources(t *testing.T) {
	reg := Default()
	tests := []struct {
		typ, code string
		want      Sources
	}{
		{"Patient", "name", Sources{Params: []string{"name", "family", "given"}}},
		{"Patient", "phonetic", Sources{Params: []string{"name", "family", "given"}, Alias: true}},
		{"Patient", "family", Sources{Params: []string{"family"}}},
		{"Patient", "address", Sources{Params: []string{"address", "address-city", "address-country", "address-postalcode", "address-state"}}},
		{"Practitioner", "name", Sources{Params: []string{"name", "family", "given"}}},
		{"Organization", "name", Sources{Params: []string{"name"}}}, // Organization.name | alias: no narrower
		{"Patient", "gender", Sources{Params: []string{"gender"}}},  // not a string
		{"Observation", "code", Sources{Params: []string{"code"}}},  // not a string
		{"Patient", "no-such-param", Sources{Params: []string{"no-such-param"}}},
	}
	for _, tc := range tests {
		got := reg.StringSources(tc.typ, tc.code)
		if got.Alias != tc.want.Alias || !slices.Equal(sorted(got.Params[1:]), sorted(tc.want.Params[1:])) || got.Params[0] != tc.want.Params[0] {
			t.Errorf("%s.%s: %+v, want %+v", tc.typ, tc.code, got, tc.want)
		}
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// TestStringSourcesHoldOnExamples checks the claim Sources makes on every
// official example: a narrower parameter's entries are all among the wider
// one's, and an alias's entries are exactly its base's.
func TestStringSourcesHoldOnExamples(t *testing.T) {
	reg := Default()
	ix := NewIndexer(reg, "")
	checked := 0
	for _, ex := range sharedspec.Examples(t) {
		var doc map[string]any
		d := json.NewDecoder(bytes.NewReader(ex.Body))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		entries, _ := ix.Entries(doc)
		typ, _ := doc["resourceType"].(string)
		values := map[string]map[[2]string]bool{}
		for _, e := range entries {
			if e.Kind != String {
				continue
			}
			if values[e.Param] == nil {
				values[e.Param] = map[[2]string]bool{}
			}
			values[e.Param][[2]string{e.Text, e.Exact}] = true
		}
		for code, own := range values {
			src := reg.StringSources(typ, code)
			if src.Alias {
				base := values[src.Params[0]]
				if len(base) != len(own) {
					t.Errorf("%s: %s has %d values, its base %s %d", ex.Name, code, len(own), src.Params[0], len(base))
				}
				for v := range own {
					if !base[v] {
						t.Errorf("%s: %s value %v is not among %s's", ex.Name, code, v, src.Params[0])
					}
				}
				checked++
				continue
			}
			for _, narrow := range src.Params[1:] {
				for v := range values[narrow] {
					if !own[v] {
						t.Errorf("%s: %s value %v is not among %s's", ex.Name, narrow, v, code)
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d (resource, parameter, source) claims checked", checked)
}
