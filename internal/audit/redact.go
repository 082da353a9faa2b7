package audit

import (
	"strings"
	"unicode/utf8"
)

// maxDetail caps the failure detail kept per event.
const maxDetail = 300

// redact keeps the shape of a failure's diagnostics and drops the values
// it quotes: the server quotes what the client sent ("\"Smith\" is not a
// valid date"), which can be a search value or resource content, and the
// trail keeps neither. Every double-quoted run becomes "…", but for the
// name of a search parameter (parameter "birthdate": ...).
func redact(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		end := closingQuote(s)
		if end < 0 { // unterminated: drop the rest
			b.WriteString(`"…"`)
			break
		}
		if strings.HasSuffix(b.String(), "parameter ") && paramName(s[:end]) {
			b.WriteString(`"` + s[:end] + `"`) // a parameter's name, not its value
		} else {
			b.WriteString(`"…"`)
		}
		s = s[end+1:]
	}
	out := b.String()
	if len(out) > maxDetail {
		cut := maxDetail
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

// closingQuote finds the quote that ends a Go-quoted string, skipping
// backslash escapes; -1 when there is none.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// paramName reports whether s is spelled like a search parameter name,
// with its modifier or chain (subject:Patient.name).
func paramName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_:.", c) >= 0) {
			return false
		}
	}
	return s != "" && len(s) <= 100
}
