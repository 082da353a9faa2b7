// Package fhirpath evaluates the subset of FHIRPath that the R4
// SearchParameter expressions use, directly on resources decoded from JSON
// (map[string]any, []any, string, bool, json.Number), so indexing never
// needs the protobuf model.
//
// The API (implemented in this package):
//
//	func Compile(expr string) (*Expr, error)
//	func MustCompile(expr string) *Expr
//	func (e *Expr) String() string
//	// Eval evaluates e with the resource as %resource and as the root; a
//	// leading type name ("Patient.name") selects nothing on another type.
//	func (e *Expr) Eval(resource map[string]any) ([]Node, error)
//	// EvalFrom evaluates e relative to a node (composite components).
//	func (e *Expr) EvalFrom(resource map[string]any, n Node) ([]Node, error)
//
// A Node is one value in the result with the FHIR type it is known to have.
// A result may share storage with the resource and with other results:
// read it, do not modify it.
//
// # The subset
//
// Paths (arrays flatten into collections; JSON nulls and "_name"
// primitive-extension siblings are not values), a leading type name
// (Patient, Resource, DomainResource), `delimited` names, string (with
// escapes), integer, decimal and boolean literals, {}, (...), [n] with an
// integer literal, $this, %resource, %rootResource, %context, and the
// operators | = != and or is as. Functions: where, select, exists, empty,
// not, count, first, last, tail, resolve, ofType, as, is, extension and
// hasExtension (a string literal url). Anything else (comparison and
// arithmetic operators, xor, implies, in, contains, other functions,
// $index, date literals) fails to compile with an error naming it.
//
// "=" compares the JSON values: numbers by value (1.0 = 1), strings (dates
// too) by their text, objects element by element. extension(url) reads an
// object's "extension" array; a primitive's extensions in its "_name"
// sibling are not reached.
//
// # Choice elements and types
//
// Navigating "value" on an object without a "value" key finds "valueX"
// keys whose suffix is an R4 data type, and types the node by it
// (valueQuantity -> Quantity, valueDateTime -> dateTime: primitive names
// are lower case). Resources are typed by resourceType. Other nodes have
// Type "".
//
// "is", "as" and ofType on a typed node compare types, where Age, Count,
// Distance, Duration, SimpleQuantity and MoneyQuantity are Quantities,
// code/id/markdown are strings, url/canonical/oid/uuid are uris, and the
// System types (String, DateTime, Integer, ...) stand for the FHIR
// primitives they map to ("as(DateTime)" keeps dateTime and instant). On a
// node of unknown type the JSON shape decides where it can: a string fits
// the string-valued primitives (date, dateTime, instant and time only when
// the text has that form), a boolean fits boolean, a number fits decimal
// and (without a fraction) the integer types, an object fits Quantity,
// Range, Period, Ratio, Reference, CodeableConcept, Coding, Identifier,
// HumanName, Address, ContactPoint, Money, Attachment, Annotation,
// SampledData or Timing only when all its elements belong to that type,
// and any other complex type (undecidable, so kept). A kept node takes the
// type it was tested for. "as" keeps every matching item of a collection,
// as ofType does, because the R4 expressions apply it to repeating
// elements.
//
// resolve() does no I/O: "#id" yields the contained resource; a relative
// or absolute reference ("Patient/1", "http://x/fhir/Patient/1/_history/2")
// or a canonical yields a stub {"resourceType", "id"} read from its last
// two segments; a Reference with only "type" and "identifier" yields a stub
// of that type; urn:uuid references yield nothing. "resolve() is T" is
// compiled into one step that allocates nothing.
package fhirpath

// Node is one item of an evaluation result.
type Node struct {
	// Value is the JSON value: map[string]any for complex types, string,
	// bool or json.Number for primitives.
	Value any
	// Type is the FHIR type name when it is known: from a choice element's
	// suffix (valueQuantity -> "Quantity"), from as/ofType, or "" when the
	// path alone does not say (the caller then infers it from the shape).
	Type string
	// Name is the element name the value was found under ("birthDate",
	// "valueQuantity"), "" for the root.
	Name string
}
