package telederm

import (
	"strings"

	"github.com/telederm/telederm/fhir/jsontree"
	"github.com/telederm/telederm/internal/store"
)

// doc is a resource decoded from JSON, numbers kept as json.Number.
type doc = map[string]any

func decode(b []byte) (doc, error) { return jsontree.Decode(b) }

// decodeChange is a change's resource as a doc of the workflow's own, to
// read or edit: a copy of the tree the writer parsed when it kept one
// (much cheaper than decoding the body again).
func decodeChange(ch store.Change) (doc, error) {
	if ch.Doc != nil {
		return jsontree.Clone(ch.Doc), nil
	}
	return decode(ch.Body)
}

// viewChange is decodeChange for reading only: the doc may be the
// change's own, which no one may change.
func viewChange(ch store.Change) (doc, error) {
	if ch.Doc != nil {
		return ch.Doc, nil
	}
	return decode(ch.Body)
}

func encode(m doc) []byte {
	b, err := jsontree.Encode(m)
	if err != nil { // maps of JSON values always encode
		panic(err)
	}
	return b
}

func str(m doc, key string) string { s, _ := m[key].(string); return s }

func obj(m doc, key string) doc { o, _ := m[key].(map[string]any); return o }

func list(m doc, key string) []any { l, _ := m[key].([]any); return l }

// refs returns the "reference" strings of a Reference or a list of them.
func refs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if r, _ := x["reference"].(string); r != "" {
			out = append(out, r)
		}
	case []any:
		for _, e := range x {
			out = append(out, refs(e)...)
		}
	}
	return out
}

// localRef splits "Type/id" (relative or under base) into type and id.
func localRef(ref, base string) (typ, id string, ok bool) {
	ref = strings.TrimPrefix(ref, base+"/")
	typ, id, ok = strings.Cut(ref, "/")
	if !ok || typ == "" || id == "" || strings.Contains(id, "/") {
		return "", "", false
	}
	return typ, id, true
}

// hasCoding reports whether a CodeableConcept (or list of them) has a
// coding of system with one of codes.
func hasCoding(v any, system string, codes ...string) bool {
	return codingOf(v, system, codes...) != ""
}

// codingOf returns the first code of system (one of codes, when given) in
// a CodeableConcept or a list of them.
func codingOf(v any, system string, codes ...string) string {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if c := codingOf(e, system, codes...); c != "" {
				return c
			}
		}
	case map[string]any:
		for _, c := range list(x, "coding") {
			cm, _ := c.(map[string]any)
			if str(cm, "system") != system {
				continue
			}
			code := str(cm, "code")
			if len(codes) == 0 && code != "" {
				return code
			}
			for _, want := range codes {
				if code == want {
					return code
				}
			}
		}
	}
	return ""
}

// isReferral reports whether a ServiceRequest is a teledermatology
// referral: its performerType is a dermatologist or the dermatology
// service (as the subscription topics decide).
func isReferral(sr doc) bool {
	return hasCoding(sr["performerType"], snomed, dermatologist, dermatologyService)
}

// setExtension replaces the extensions of url on m with ext (none when nil).
func setExtension(m doc, url string, ext doc) {
	var keep []any
	for _, e := range list(m, "extension") {
		if em, _ := e.(map[string]any); str(em, "url") == url {
			continue
		}
		keep = append(keep, e)
	}
	if ext != nil {
		ext["url"] = url
		keep = append(keep, ext)
	}
	if len(keep) == 0 {
		delete(m, "extension")
		return
	}
	m["extension"] = keep
}

// hasTag reports whether meta.tag has system|code.
func hasTag(m doc, system, code string) bool {
	for _, t := range list(obj(m, "meta"), "tag") {
		if tm, _ := t.(map[string]any); str(tm, "system") == system && str(tm, "code") == code {
			return true
		}
	}
	return false
}
