// Package search is the server's knowledge of FHIR search, with no I/O: the
// registry of every R4 SearchParameter (generated from the spec), the index
// entries a resource yields at write time, and the parsed form of a search
// request. Storage backends translate parsed queries into their own query
// language; they never read resource JSON to answer a search.
package search

// Type is a search parameter type (R4 search-param-type).
type Type string

const (
	Number    Type = "number"
	Date      Type = "date"
	String    Type = "string"
	Token     Type = "token"
	Reference Type = "reference"
	Composite Type = "composite"
	Quantity  Type = "quantity"
	URI       Type = "uri"
	Special   Type = "special"
)

// Param is one search parameter as the spec defines it.
type Param struct {
	// Code is the name used in URLs ("birthdate", "_lastUpdated").
	Code string
	// URL is the SearchParameter's canonical URL.
	URL  string
	Type Type
	// Base lists the resource types the parameter applies to; "Resource" and
	// "DomainResource" mean every type (every DomainResource).
	Base []string
	// Expression is the FHIRPath that selects the values to index, covering
	// all the bases ("Patient.birthDate | Person.birthDate"). Empty when the
	// spec defines none (e.g. _text, _content, _query): such parameters are
	// not indexed.
	Expression string
	// Targets are the resource types a reference parameter can point to.
	Targets []string
	// Components are the parts of a composite parameter.
	Components []Component
	// Modifiers and Comparators are those the spec lists for the parameter.
	Modifiers   []string
	Comparators []string
	Description string
}

// Component is one part of a composite parameter: the parameter that
// defines its type and the FHIRPath, relative to the composite's value, that
// selects it.
type Component struct {
	Definition string // the component parameter's canonical URL
	Expression string
}
