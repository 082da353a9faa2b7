package jsonpatch

import (
	"fmt"
	"strings"
)

// Error reports why a patch could not be applied. Nothing of the patch was
// applied when it is returned.
type Error struct {
	// Op is the index of the failing operation in the patch array, or -1 when
	// the patch (or the document) is not well formed as a whole.
	Op int
	// Path is the JSON Pointer the operation failed on: its "path", or its
	// "from" when the source was the problem.
	Path string
	// Reason says what was wrong, e.g. "path not found".
	Reason string
}

func (e *Error) Error() string {
	if e.Op < 0 {
		return "jsonpatch: " + e.Reason
	}
	return fmt.Sprintf("jsonpatch: operation %d at %q: %s", e.Op, e.Path, e.Reason)
}

// Expression renders Path as a FHIRPath-style element path rooted at
// resourceType, for OperationOutcome.issue.expression:
// "/name/0/given/1" becomes "Patient.name[0].given[1]".
//
// The append position "-" has no FHIRPath form, so it names the array itself.
// Names that are not plain identifiers are written `delimited`. A Path that is
// not a valid JSON Pointer yields just resourceType.
func (e *Error) Expression(resourceType string) string {
	toks, err := parsePointer(e.Path)
	if err != nil {
		return resourceType
	}
	var b strings.Builder
	b.WriteString(resourceType)
	for _, t := range toks {
		switch {
		case t == "-":
		case isIndex(t):
			b.WriteString("[" + t + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(fhirPathName(t))
		}
	}
	return b.String()
}

// fhirPathName quotes a member name as a FHIRPath identifier.
func fhirPathName(s string) string {
	if isIdentifier(s) {
		return s
	}
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`")
	return "`" + r.Replace(s) + "`"
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !alpha && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
