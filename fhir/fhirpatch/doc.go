// Package fhirpatch applies a FHIRPath Patch (R4, fhirpatch.html): a
// Parameters resource with one "operation" parameter per change, each with
// parts type (add, insert, delete, replace, move), path (FHIRPath) and,
// by type, name, value, index, source and destination.
//
// The API:
//
//	func Apply(resource, parameters []byte) ([]byte, error)
//	func ApplyWith(resource, parameters []byte, opts Options) ([]byte, error)
//	type Options struct{ Element func(path string) ElementInfo }
//	type Error struct{ Op int; Part, Reason string; Malformed bool }
//	func (e *Error) Expression() string
//
// Operations apply in order to a copy; an error leaves nothing applied.
// The whole Parameters document is checked before any operation runs, so
// a malformed operation is reported (Error.Malformed) even when an earlier
// one would fail on the resource.
//
// # Paths
//
// Patch needs to know where each selected element sits, which the
// fhirpath package does not report, so paths are walked here. A path is a
// chain of: a leading type name (Patient, Resource), element names (a
// choice element by its name, "deceased" finding deceasedBoolean), [n],
// first(), last(), tail(), where(criteria), ofType(T), as(T), "as T",
// extension('url'), resolve() of a "#id" reference to a contained
// resource, $this, %resource and (parenthesised) sub-paths. where, ofType,
// as and the type name are evaluated by package fhirpath on each element.
// Anything else (unions, other functions) is a malformed path.
//
// The rules: add, insert, replace and move need their path to select
// exactly one element; for insert and move that is the element holding
// the list, the path's last name naming the list ("Patient.identifier"),
// so an empty or absent list can be inserted into. Delete of nothing is a
// no-op; any path selecting more than one element is an error. Indexes
// count the list's JSON entries. A primitive's id and extensions (the
// "_name" sibling) move with it in list operations and are dropped when
// it is deleted or replaced. Objects and lists left empty are removed:
// FHIR JSON has none.
//
// # Values
//
// A value[x] part gives the JSON as it would appear in a resource
// (valueString and valueDecimal become the JSON primitive, valueHumanName
// the object), with "_value[x]" as the primitive's id and extensions; a
// "resource" part gives a resource; a value with parts builds an object,
// one member per part name, recursively, repeated names making a list.
//
// # The model
//
// Whether a missing element repeats (so add creates a list) and whether a
// name is a choice element (so add stores "value" as valueQuantity) is FHIR
// model knowledge this package does not carry: Options.Element supplies
// it. Without it, add makes a single value under the given name.
package fhirpatch
