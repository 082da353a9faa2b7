package search

// Query is a parsed search request: what a store must find, and how to
// present it. It is built by Parse from the request's parameters, already
// checked against the registry, so a store can translate it without
// further validation.
type Query struct {
	// Type is the resource type searched; empty for a system search, where
	// Types (from _type) narrows the types, or all types when it is empty.
	Type  string
	Types []string
	// Compartment, when set, limits the search to one compartment
	// (GET Patient/123/ServiceRequest): resources that reference the
	// compartment's owner through the compartment's parameters.
	Compartment *Compartment

	// Where is a conjunction: every clause must hold (repeated parameters
	// are ANDed). A clause is a disjunction of its predicates (comma-
	// separated values are ORed).
	Where []Clause

	Include    []Include // _include
	RevInclude []Include // _revinclude

	Sort  []SortKey // _sort, in priority order; empty means the store's stable default
	Count int       // _count: page size (0 means "only the total", as _summary=count)
	// Total is _total: "none", "estimate" or "accurate" ("" = server default).
	Total string
	// Summary is _summary ("true", "text", "data", "count", "false" or "").
	Summary string
	// Elements is _elements: the top-level elements to keep (empty = all).
	Elements []string
	// Cursor continues a previous page (opaque to everyone but the store).
	Cursor string

	// Ignored lists the parameters Parse left out, as written in the
	// request and sorted: unknown or unsupported ones under lenient
	// handling, and those given without a value. They belong in no self
	// link.
	Ignored []string
}

// Compartment is a compartment search's owner and the reference parameters
// of the searched type that place a resource in that compartment.
type Compartment struct {
	Type, ID string
	Params   []string // parameter codes, e.g. ["subject", "performer"]

	// The fields below serve searches of a whole compartment across types
	// (Patient/[id]/$everything), where Query.Type is empty and Query.Types
	// lists the types searched.

	// ByType gives each member type the parameters that link it to the
	// owner; it replaces Params. A type not in it has no members (except
	// the owner itself, see WithOwner).
	ByType map[string][]string
	// WithOwner makes the owner resource a member of its own compartment,
	// as the spec says of a Patient and its Patient compartment.
	WithOwner bool
	// AnyOwner searches the union of the compartments of every live
	// resource of Type (Patient/$everything without an id); ID must then be
	// empty. Without it an empty ID is an error, never "everyone".
	AnyOwner bool
}

// Clause is an OR of predicates.
type Clause struct {
	Any []Predicate
}

// Predicate is one test on a resource's index entries, or a chain or
// reverse chain leading to such a test on other resources.
type Predicate struct {
	// Param is the parameter tested (for a chain: the reference parameter
	// followed; for _has: nil, see Has).
	Param *Param
	// Modifier as written after the colon, without a resource type
	// (":missing", ":exact", ":contains", ":text", ":not", ":above",
	// ":below", ":in", ":not-in", ":of-type", ":identifier"); "" for none.
	// A reference's ":[type]" modifier is in Value.Ref.Type / Chain.Type.
	Modifier string

	// Missing is set for :missing: true finds resources with no entry for
	// Param, false those with at least one.
	Missing *bool

	// Value is the value to compare with, typed by Param.Type. Unset for
	// :missing, chains and _has.
	Value Value

	// Chain follows a reference parameter to resources of Chain.Type and
	// tests them with Chain.Next (subject:Patient.name=x).
	Chain *Chain
	// Has is a reverse chain (_has:Observation:patient:code=x).
	Has *Has
}

// Chain is the rest of a chained parameter.
type Chain struct {
	// Type is the target resource type: from the modifier (subject:Patient)
	// or, when the reference parameter has one target, that target. Empty
	// when several are possible: the chain then tests every target type
	// that has Next's parameter.
	Type string
	Next Predicate
}

// Has is a reverse chain: resources of Type whose reference parameter
// RefParam points at the candidate and which satisfy Next.
type Has struct {
	Type     string
	RefParam *Param
	Next     Predicate
}

// Prefix is a comparison prefix for number, date and quantity values.
type Prefix string

const (
	Eq Prefix = "eq"
	Ne Prefix = "ne"
	Gt Prefix = "gt"
	Lt Prefix = "lt"
	Ge Prefix = "ge"
	Le Prefix = "le"
	Sa Prefix = "sa"
	Eb Prefix = "eb"
	Ap Prefix = "ap"
)

// Value is a typed search value. Only the fields of Param.Type are set.
type Value struct {
	// Token: System and Code; HasSystem distinguishes "|code" (explicitly
	// no system) and "system|code" from a bare "code" (any system). For
	// :text, Text holds the normalised text. For :of-type, TypeSystem and
	// TypeCode are the identifier type, Code the identifier value. For :in
	// and :not-in, ValueSet is the canonical URL.
	System, Code         string
	HasSystem            bool
	TypeSystem, TypeCode string
	ValueSet             string

	// String: Text is normalised for the default (starts-with) and
	// :contains matches; Exact is the value as written for :exact.
	Text, Exact string

	// Date, Number, Quantity: Prefix (eq when none was written) and the
	// range the value covers at its written precision, half-open [Lo, Hi)
	// (µs since the epoch for dates; NumLo/NumHi and Num for numbers and
	// quantities). Quantity also sets System and Code (unit) when given.
	Prefix       Prefix
	Lo, Hi       int64
	Num          float64
	NumLo, NumHi float64

	// Reference: Ref. URI: URI (with :above/:below as Modifier).
	Ref *RefValue
	URI string

	// Composite: one value per component, in order.
	Parts []Value

	// Kind is the type the value was parsed as: Param.Type, or for a
	// composite part the component's type (so a store can translate the
	// parts without the registry).
	Kind Type
	// Raw is the value as the request wrote it (URL-decoded, with its
	// backslash escapes and prefix), except that a reference read through
	// a type modifier or as a URL under the server's base is "Type/id".
	// Query.Canonical renders it.
	Raw string
	// For the ap prefix: the window the value approximately covers, half-
	// open [ApLo, ApHi) for dates (µs; the written range widened by
	// ApproxFraction of its distance from now) and [ApNumLo, ApNumHi) for
	// numbers and quantities (Num ± ApproxFraction·|Num|, never narrower
	// than the written precision). Unset for other prefixes.
	ApLo, ApHi       int64
	ApNumLo, ApNumHi float64
}

// RefValue is a reference search value.
type RefValue struct {
	// Type and ID for a local reference ("Patient/123", or "123" with the
	// type from a :Patient modifier or the parameter's single target; Type
	// is empty when the id alone was given and several targets exist).
	Type, ID string
	// URL is an absolute URL or canonical that is not local; Version a
	// canonical's version.
	URL, Version string
	// For :identifier, System and Code; HasSystem as for a token value
	// ("|value" is explicitly no system, "value" any system).
	System, Code string
	HasSystem    bool
}

// Include is an _include or _revinclude.
type Include struct {
	// SourceType and Param: "_include=MedicationRequest:patient" has
	// SourceType MedicationRequest and Param patient. Wildcard is "*".
	SourceType string
	Param      *Param // nil when Wildcard
	Wildcard   bool
	// TargetType narrows the targets ("_include=Observation:subject:Patient").
	TargetType string
	Iterate    bool
}

// SortKey is one _sort key.
type SortKey struct {
	Param      *Param
	Descending bool
}
