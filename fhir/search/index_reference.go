package search

import (
	"strings"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// Reference indexing.
//
// A Reference's "reference" text:
//
//	"Type/id", "Type/id/_history/n"     local: RefType, RefID (version dropped)
//	"http(s)://<base>/Type/id[/_history/n]"
//	                                    local, the same
//	"#id"                               a contained resource: skipped
//	any other absolute URL or URN       URL, as written
//	a bare id                           local, typed by Reference.type, else by
//	                                    the parameter's single target; skipped
//	                                    when neither says
//
// A Reference.identifier adds an entry with System and Code (for
// :identifier), whether or not the reference text is there too.
//
// canonical and uri strings: "url|version" is URL and Version; a string
// that reads as a local reference ("Questionnaire/q1", or a URL under the
// base) is indexed as one, so a search written either way finds it.
//
// A resource value (Bundle.entry[0].resource for Bundle's composition) is
// not a reference to anything stored and yields nothing.
func (ix *Indexer) referenceEntries(dst []Entry, p *Param, n fhirpath.Node) []Entry {
	add := func(e Entry) {
		e.Param, e.Kind = p.Code, Reference
		dst = append(dst, e)
	}
	switch v := n.Value.(type) {
	case string:
		if e, ok := ix.canonicalEntry(v); ok {
			add(e)
		}
	case map[string]any:
		// Whatever the shape suggests, a reference parameter's object value
		// is read as a Reference, unless it is a resource.
		if _, isResource := v["resourceType"]; isResource {
			return dst
		}
		if ref := strings.TrimSpace(ixStr(v, "reference")); ref != "" {
			if e, ok := ix.referenceEntry(ref, ixStr(v, "type"), p.Targets); ok {
				add(e)
			}
		}
		if id, ok := v["identifier"].(map[string]any); ok {
			if e := (Entry{System: ixStr(id, "system"), Code: ixStr(id, "value")}); e.System != "" || e.Code != "" {
				add(e)
			}
		}
	}
	return dst
}

// referenceEntry reads a Reference.reference.
func (ix *Indexer) referenceEntry(ref, typ string, targets []string) (Entry, bool) {
	if strings.HasPrefix(ref, "#") {
		return Entry{}, false
	}
	if t, id, ok := ix.local(ref); ok {
		return Entry{RefType: t, RefID: id}, true
	}
	if ixAbsolute(ref) {
		return Entry{URL: ref}, true
	}
	if !strings.Contains(ref, "/") && ixID(ref) {
		if typ == "" && len(targets) == 1 && targets[0] != "Resource" {
			typ = targets[0]
		}
		if ixTypeName(typ) {
			return Entry{RefType: typ, RefID: ref}, true
		}
	}
	return Entry{}, false
}

// canonicalEntry reads a canonical or uri string.
func (ix *Indexer) canonicalEntry(s string) (Entry, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "#") {
		return Entry{}, false
	}
	url, version := s, ""
	if i := strings.LastIndexByte(s, '|'); i >= 0 {
		url, version = s[:i], s[i+1:]
	}
	if t, id, ok := ix.local(url); ok {
		return Entry{RefType: t, RefID: id, Version: version}, true
	}
	return Entry{URL: url, Version: version}, true
}

// local splits a reference to a resource on this server, relative
// ("Patient/1", "Patient/1/_history/2") or absolute under the base.
func (ix *Indexer) local(ref string) (typ, id string, ok bool) {
	if ixAbsolute(ref) {
		rest, found := ix.underBase(ref)
		if !found {
			return "", "", false
		}
		ref = rest
	}
	typ, rest, found := strings.Cut(ref, "/")
	if !found {
		return "", "", false
	}
	id, hist, versioned := strings.Cut(rest, "/")
	if versioned {
		h, v, ok := strings.Cut(hist, "/")
		if h != "_history" || !ok || v == "" || strings.Contains(v, "/") {
			return "", "", false
		}
	}
	if !ixTypeName(typ) || !ixID(id) {
		return "", "", false
	}
	return typ, id, true
}

// underBase returns what follows the server's base in an http or https
// URL, scheme and host compared without case.
func (ix *Indexer) underBase(u string) (string, bool) {
	if ix.base == "" {
		return "", false
	}
	var rest string
	switch {
	case len(u) > 7 && strings.EqualFold(u[:7], "http://"):
		rest = u[7:]
	case len(u) > 8 && strings.EqualFold(u[:8], "https://"):
		rest = u[8:]
	default:
		return "", false
	}
	if len(rest) <= len(ix.base) || !strings.EqualFold(rest[:len(ix.base)], ix.base) {
		return "", false
	}
	return rest[len(ix.base):], true
}

// ixAbsolute reports whether s starts with a URI scheme ("http:", "urn:").
func ixAbsolute(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return true
		default:
			return false
		}
	}
	return false
}

// ixTypeName reports whether s could be a resource type name.
func ixTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// ixID reports whether s is a FHIR id: [A-Za-z0-9\-\.]{1,64}.
func ixID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
