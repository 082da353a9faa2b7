package search

import (
	"strings"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// URI indexing: uri, url, canonical, oid, uuid strings are URL, as written
// (a canonical keeps its "|version": a uri search compares the whole
// value, and :below on the bare URL still finds it). Non-string values
// yield nothing.
func indexURI(dst []Entry, code string, n fhirpath.Node) []Entry {
	s, ok := n.Value.(string)
	if !ok || strings.TrimSpace(s) == "" {
		return dst
	}
	return append(dst, Entry{Param: code, Kind: URI, URL: s})
}
