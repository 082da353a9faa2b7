package search

import (
	"strings"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// String indexing: one entry per string, Text = Normalize(value) for the
// default (starts-with) and :contains matches, Exact = the value as written
// for :exact.
//
//	string, markdown, code, ... primitives   the value
//	HumanName   family, each given, each prefix, each suffix, text; and,
//	            when there is no text, the name as usually written
//	            ("given… family"), so name=peter%20james finds it
//	Address     each line, city, district, state, postalCode, country, text
//	other complex values (a CodeableConcept, an Annotation): their text
//
// Blank values yield nothing.
func indexString(dst []Entry, code string, n fhirpath.Node) []Entry {
	add := func(s string) {
		if strings.TrimSpace(s) == "" {
			return
		}
		dst = append(dst, Entry{Param: code, Kind: String, Text: Normalize(s), Exact: s})
	}
	switch v := n.Value.(type) {
	case string:
		add(v)
	case map[string]any:
		switch ixType(n) {
		case "HumanName":
			family, given := ixStr(v, "family"), ixStrs(v, "given")
			add(family)
			for _, s := range given {
				add(s)
			}
			for _, k := range []string{"prefix", "suffix"} {
				for _, s := range ixStrs(v, k) {
					add(s)
				}
			}
			if text := ixStr(v, "text"); text != "" {
				add(text)
			} else if len(given) > 0 && family != "" {
				add(strings.Join(append(given[:len(given):len(given)], family), " "))
			}
		case "Address":
			for _, s := range ixStrs(v, "line") {
				add(s)
			}
			for _, k := range []string{"city", "district", "state", "postalCode", "country", "text"} {
				add(ixStr(v, k))
			}
		default:
			add(ixStr(v, "text"))
		}
	}
	return dst
}
