package search

// Entry is one value a resource is indexed under for one search parameter.
// Extraction produces entries at write time; the store keeps them beside the
// resource and answers searches from them alone. Which fields are set
// depends on Kind.
type Entry struct {
	// Param is the parameter's Code ("birthdate").
	Param string
	// Kind is the parameter type, which says which fields below are set.
	Kind Type

	// Token: System and Code as found (either may be empty: a bare code, or
	// an Identifier without a system). Text is the display or text that
	// :text matches (normalised like String). For an Identifier, TypeSystem
	// and TypeCode hold Identifier.type's codings for :of-type (one entry per
	// type coding).
	System, Code, Text   string
	TypeSystem, TypeCode string

	// String: Text (set above) is the normalised value (lower case, accents
	// and punctuation folded, as Normalize does); Exact is the value as
	// written, for :exact.
	Exact string

	// Date: the instant range the value covers at its precision, as
	// microseconds since the Unix epoch, half-open [Lo, Hi). An open Period
	// end is math.MinInt64 / math.MaxInt64.
	Lo, Hi int64

	// Number and Quantity: the value, and the half-open range [NumLo, NumHi)
	// its written precision implies ("5.4" covers 5.35 to 5.45). Quantity
	// also sets System and Code (the unit) and Text (the unit as written,
	// Quantity.unit).
	Num, NumLo, NumHi float64

	// Reference: RefType and RefID for a reference to a resource on this
	// server ("Patient/123" or a full URL under the server's base); URL for
	// any other absolute URL or a canonical (without its version), Version
	// for a canonical's "|version". Reference entries from Identifier-only
	// references set System and Code instead (for :identifier).
	// URI: URL.
	RefType, RefID, URL, Version string

	// Composite: the component entries that come from one element, in the
	// order of the parameter's components.
	Parts []Entry
}
