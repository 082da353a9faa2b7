package stats

import (
	"strings"
	"time"
)

// Resource is a stored resource decoded from JSON.
type Resource = map[string]any

// get walks v by object keys and list indexes; nil when a step is missing.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := get(v, path...).([]any)
	return l
}

// hasCoding reports whether the CodeableConcept cc has a coding of system
// with one of codes.
func hasCoding(cc any, system string, codes ...string) bool {
	for _, c := range list(cc, "coding") {
		if str(c, "system") != system {
			continue
		}
		for _, code := range codes {
			if str(c, "code") == code {
				return true
			}
		}
	}
	return false
}

// codeIn is the first code of system in the CodeableConcept cc.
func codeIn(cc any, system string) string {
	for _, c := range list(cc, "coding") {
		if str(c, "system") == system {
			return str(c, "code")
		}
	}
	return ""
}

// localRef is a reference as Type/id: absolute URLs and version suffixes
// are cut off, so references written either way compare equal.
func localRef(ref string) string {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	parts := strings.Split(strings.TrimSuffix(ref, "/"), "/")
	if len(parts) < 2 {
		return ref
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

func refType(ref string) string {
	t, _, _ := strings.Cut(localRef(ref), "/")
	return t
}

// instant reads a FHIR dateTime or instant; a date alone is midnight UTC.
func instant(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func self(r Resource) string { return str(r, "resourceType") + "/" + str(r, "id") }
