package fhirpatch

import "fmt"

// Error reports why a patch could not be applied. Nothing of the patch was
// applied when it is returned.
type Error struct {
	// Op is the 0-based index of the failing operation (the parameter at
	// that index), or -1 when the Parameters document as a whole is wrong.
	Op int
	// Part names the operation's part at fault ("path", "value", "index"),
	// or is "" when the operation as a whole is.
	Part string
	// Reason says what was wrong.
	Reason string
	// Malformed is set when the Parameters are not a valid FHIRPath Patch
	// whatever resource they apply to; otherwise the operation failed on
	// this resource.
	Malformed bool

	at string // the offending parameter's path below "Parameters"
}

func (e *Error) Error() string {
	switch {
	case e.Op < 0:
		return "fhirpatch: " + e.Reason
	case e.Part == "":
		return fmt.Sprintf("fhirpatch: operation %d: %s", e.Op, e.Reason)
	}
	return fmt.Sprintf("fhirpatch: operation %d (%s): %s", e.Op, e.Part, e.Reason)
}

// Expression is the FHIRPath of the offending parameter in the Parameters
// body, e.g. "Parameters.parameter[2].part[1]", for an OperationOutcome
// issue's expression.
func (e *Error) Expression() string { return "Parameters" + e.at }
