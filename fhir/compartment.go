package fhir

import "sort"

// CompartmentParams returns the search parameters of resourceType that put
// a resource in a compartment of compartmentType (R4 CompartmentDefinition),
// and whether the type belongs to that compartment at all.
func CompartmentParams(compartmentType, resourceType string) ([]string, bool) {
	p, ok := compartments[compartmentType][resourceType]
	return p, ok
}

// CompartmentTypes lists the resource types in a compartment of
// compartmentType, sorted; nil when it is not a compartment type.
func CompartmentTypes(compartmentType string) []string {
	m := compartments[compartmentType]
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
