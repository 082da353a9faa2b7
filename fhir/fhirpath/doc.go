// Package fhirpath evaluates the subset of FHIRPath that the R4
// SearchParameter expressions and profile invariants use, directly on
// resources decoded from JSON (map[string]any, []any, string, bool,
// json.Number), so indexing and validation never need the protobuf model.
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
// escapes), integer, decimal, boolean and date/time (@2020-01-01,
// @2020-01-01T10:00:00Z, @T10:00) literals, {}, (...), [n] with an integer
// literal, $this, %resource, %rootResource, %context.
//
// Operators, by precedence (highest first): unary - and +; * / div mod;
// + - & ; is as; |; < > <= >=; = != ~ !~; in contains; and; or xor;
// implies.
//
// Functions: where, select, exists, all, empty, not, count, hasValue,
// allTrue, anyTrue, allFalse, anyFalse, distinct, isDistinct, iif, first,
// last, tail, single, union, combine, intersect, exclude, children,
// descendants, resolve, ofType, as, is, extension and hasExtension (a
// string literal url), matches, startsWith, endsWith, contains, indexOf,
// length, upper, lower, substring, toInteger, toDecimal, toString.
// Anything else (other functions such as trace, $index, $total, quantity
// literals, date arithmetic, %ucum and other environment variables) fails
// to compile with an error naming it.
//
// Empty collections propagate as the specification says: an operator or
// string function with an empty operand gives empty (except "&", which
// reads empty as the empty string, "in"/"contains" with an empty list, which give false,
// and "~", where two empties are equivalent); and/or/xor/implies use
// three-valued logic. An operand with more than one item is an evaluation
// error. The arguments of functions that do not iterate (startsWith,
// substring, iif, union...) are evaluated against the enclosing $this (the
// item of the innermost where/select/exists/all, else the starting focus),
// not against the function's input.
//
// Numbers: integer arithmetic stays integer; decimals are exact (the
// result of + - and mod keeps the larger scale of its operands, * the sum
// of their scales); "/" always gives a decimal (8 places at most,
// trailing zeros dropped); division by zero gives empty. Comparison orders
// numbers by value, strings by their text, Quantities of the same code by
// value (different codes give empty: no unit conversion), and dates and
// times by time: two instants (time and zone) as points in time, else the
// texts with the zone set aside as far as both go, empty when they agree
// that far but differ in precision (@1970 against 1970-03-04). Strings are
// compared as dates when either side is typed as a date or time, or when
// neither side is typed and both have the form of one.
//
// matches() uses Go's RE2 syntax and is true when the pattern matches
// anywhere (anchor with ^...$ to match the whole string); a literal
// pattern that does not compile fails Compile. substring and length count
// characters (runes). toInteger converts integers, integer strings and
// booleans; toString converts primitives, and gives empty for objects.
// children() and descendants() list element values in key order
// (resourceType and "_name" siblings are not elements).
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
