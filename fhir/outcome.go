package fhir

import (
	"encoding/json"
	"strings"
)

// Issue severities and types used by the server (R4 value sets
// issue-severity and issue-type).
const (
	SeverityFatal       = "fatal"
	SeverityError       = "error"
	SeverityWarning     = "warning"
	SeverityInformation = "information"

	CodeInvalid      = "invalid"
	CodeStructure    = "structure"
	CodeRequired     = "required"
	CodeValue        = "value"
	CodeInvariant    = "invariant"
	CodeCodeInvalid  = "code-invalid"
	CodeNotSupported = "not-supported"
	CodeNotFound     = "not-found"
	CodeDeleted      = "deleted"
	CodeConflict     = "conflict"
	CodeTooLong      = "too-long"
	CodeProcessing   = "processing"
	CodeException    = "exception"
	CodeInformation  = "informational"
	CodeSecurity     = "security"
	CodeLogin        = "login"
	CodeForbidden    = "forbidden"
	CodeBusinessRule = "business-rule"
	CodeDuplicate    = "duplicate"
)

// Outcome is an R4 OperationOutcome. It is built with plain structs rather
// than protos because the server writes many of them and reads none.
type Outcome struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id,omitempty"`
	Issue        []Issue `json:"issue"`
}

// Issue is one OperationOutcome.issue.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// NewOutcome returns an OperationOutcome with a single issue. expression is
// the FHIRPath of the element at fault, if any.
func NewOutcome(severity, code, diagnostics string, expression ...string) *Outcome {
	o := &Outcome{ResourceType: "OperationOutcome"}
	o.Add(severity, code, diagnostics, expression...)
	return o
}

// Add appends an issue.
func (o *Outcome) Add(severity, code, diagnostics string, expression ...string) {
	if o.ResourceType == "" {
		o.ResourceType = "OperationOutcome"
	}
	o.Issue = append(o.Issue, Issue{Severity: severity, Code: code, Diagnostics: diagnostics, Expression: expression})
}

// HasErrors reports whether any issue is an error or fatal.
func (o *Outcome) HasErrors() bool {
	if o == nil {
		return false
	}
	for _, is := range o.Issue {
		if is.Severity == SeverityError || is.Severity == SeverityFatal {
			return true
		}
	}
	return false
}

// JSON renders the outcome. It cannot fail: every field is a string.
func (o *Outcome) JSON() []byte {
	b, err := json.Marshal(o)
	if err != nil {
		panic("fhir: marshal OperationOutcome: " + err.Error())
	}
	return b
}

// Error makes an Outcome usable as an error value; the text joins the
// diagnostics and expressions of every issue.
func (o *Outcome) Error() string {
	parts := make([]string, 0, len(o.Issue))
	for _, is := range o.Issue {
		s := is.Diagnostics
		if len(is.Expression) > 0 {
			s = strings.Join(is.Expression, ",") + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
