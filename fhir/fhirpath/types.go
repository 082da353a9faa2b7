package fhirpath

import (
	"encoding/json"
	"math"
	"strings"
)

// choiceTypes maps the suffix of a choice element's JSON name
// (valueQuantity, deceasedBoolean) to the FHIR type it names: the R4 open
// type list. Only these suffixes make "value" find "valueX", so an element
// such as binding.valueSet is never taken for a choice of "value".
var choiceTypes = map[string]string{
	"Base64Binary": "base64Binary", "Boolean": "boolean", "Canonical": "canonical",
	"Code": "code", "Date": "date", "DateTime": "dateTime", "Decimal": "decimal",
	"Id": "id", "Instant": "instant", "Integer": "integer", "Markdown": "markdown",
	"Oid": "oid", "PositiveInt": "positiveInt", "String": "string", "Time": "time",
	"UnsignedInt": "unsignedInt", "Uri": "uri", "Url": "url", "Uuid": "uuid",
	"Address": "Address", "Age": "Age", "Annotation": "Annotation",
	"Attachment": "Attachment", "CodeableConcept": "CodeableConcept",
	"Coding": "Coding", "ContactPoint": "ContactPoint", "Count": "Count",
	"Distance": "Distance", "Duration": "Duration", "HumanName": "HumanName",
	"Identifier": "Identifier", "Money": "Money", "Period": "Period",
	"Quantity": "Quantity", "Range": "Range", "Ratio": "Ratio",
	"Reference": "Reference", "SampledData": "SampledData",
	"Signature": "Signature", "Timing": "Timing", "ContactDetail": "ContactDetail",
	"Contributor": "Contributor", "DataRequirement": "DataRequirement",
	"Expression": "Expression", "ParameterDefinition": "ParameterDefinition",
	"RelatedArtifact": "RelatedArtifact", "TriggerDefinition": "TriggerDefinition",
	"UsageContext": "UsageContext", "Dosage": "Dosage", "Meta": "Meta",
}

// systemTypes are the FHIRPath System types a specifier may name
// ("value.as(DateTime)" in R4), with the FHIR primitives each stands for.
// The first listed is the type an untyped value is given when it fits.
var systemTypes = map[string][]string{
	"Boolean":  {"boolean"},
	"String":   {"string", "code", "id", "uri", "url", "canonical", "markdown", "oid", "uuid", "base64Binary"},
	"Integer":  {"integer", "positiveInt", "unsignedInt"},
	"Decimal":  {"decimal"},
	"Date":     {"date"},
	"DateTime": {"dateTime", "instant"},
	"Time":     {"time"},
}

// quantityKinds are Quantity's profiles: each is a Quantity for is/as.
var quantityKinds = map[string]bool{
	"Age": true, "Count": true, "Distance": true, "Duration": true,
	"MoneyQuantity": true, "SimpleQuantity": true,
}

// primitiveBase gives the R4 primitives derived from another primitive, so
// a code is a string and a canonical is a uri.
var primitiveBase = map[string]string{
	"code": "string", "id": "string", "markdown": "string",
	"url": "uri", "canonical": "uri", "oid": "uri", "uuid": "uri",
	"positiveInt": "integer", "unsignedInt": "integer",
}

// complexElements lists the elements of the complex types whose JSON shape
// decides "as T" for a value whose type the path did not say. A type not
// listed is undecidable, and such values are kept.
var complexElements = map[string][]string{
	"Quantity":        {"value", "comparator", "unit", "system", "code"},
	"Range":           {"low", "high"},
	"Period":          {"start", "end"},
	"Ratio":           {"numerator", "denominator"},
	"Reference":       {"reference", "type", "identifier", "display"},
	"CodeableConcept": {"coding", "text"},
	"Coding":          {"system", "version", "code", "display", "userSelected"},
	"Identifier":      {"use", "type", "system", "value", "period", "assigner"},
	"HumanName":       {"use", "text", "family", "given", "prefix", "suffix", "period"},
	"Address":         {"use", "type", "text", "line", "city", "district", "state", "postalCode", "country", "period"},
	"ContactPoint":    {"system", "value", "use", "rank", "period"},
	"Money":           {"value", "currency"},
	"Attachment":      {"contentType", "language", "data", "url", "size", "hash", "title", "creation"},
	"Annotation":      {"authorReference", "authorString", "time", "text"},
	"SampledData":     {"origin", "period", "factor", "lowerLimit", "upperLimit", "dimensions", "data"},
	"Timing":          {"event", "repeat", "code"},
}

// typeName strips a "FHIR." or "System." namespace from a type specifier.
func typeName(spec string) string {
	if s, ok := strings.CutPrefix(spec, "FHIR."); ok {
		return s
	}
	if s, ok := strings.CutPrefix(spec, "System."); ok {
		return s
	}
	return spec
}

// isType reports whether n is of type t, and the type n has as a t (its
// own type when known, else the FHIR type its shape fits). The rule for a
// value with no known type: a resource is its resourceType; a string fits
// the string-valued primitives (date, dateTime, instant and time only when
// the text has that form); a boolean fits boolean; a number fits decimal,
// and the integer types when it has no fraction; an object fits a listed
// complex type when all its elements belong to that type, and fits any
// unlisted type (undecidable, so kept).
func isType(n Node, t string) (bool, string) {
	if n.Type != "" {
		return typeMatches(n.Type, t, n.Value), n.Type
	}
	if rt := resourceTypeOf(n.Value); rt != "" {
		return typeMatches(rt, t, n.Value), rt
	}
	if sys, ok := systemTypes[t]; ok {
		for _, p := range sys {
			if fitsPrimitive(n.Value, p) {
				return true, p
			}
		}
		return false, ""
	}
	if t == "Quantity" || quantityKinds[t] {
		return fitsComplex(n.Value, "Quantity"), t
	}
	if _, ok := complexElements[t]; ok {
		return fitsComplex(n.Value, t), t
	}
	switch t {
	case "Resource", "DomainResource":
		return false, ""
	}
	if isPrimitiveName(t) {
		return fitsPrimitive(n.Value, t), t
	}
	_, isObject := n.Value.(map[string]any)
	return isObject, t
}

// typeMatches reports whether a value of the known type have is a t.
func typeMatches(have, t string, v any) bool {
	if have == t {
		return true
	}
	if t == "Quantity" && quantityKinds[have] || primitiveBase[have] == t {
		return true
	}
	if sys, ok := systemTypes[t]; ok {
		for _, p := range sys {
			if p == have {
				return true
			}
		}
		return false
	}
	switch t {
	case "Resource":
		return resourceTypeOf(v) != ""
	case "DomainResource":
		return isDomainResource(resourceTypeOf(v))
	}
	return false
}

func isDomainResource(rt string) bool {
	switch rt {
	case "", "Binary", "Bundle", "Parameters":
		return false
	}
	return true
}

func resourceTypeOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		if rt, ok := m["resourceType"].(string); ok {
			return rt
		}
	}
	return ""
}

func isPrimitiveName(t string) bool {
	return t != "" && t[0] >= 'a' && t[0] <= 'z'
}

// fitsPrimitive reports whether a JSON value could be the FHIR primitive p.
func fitsPrimitive(v any, p string) bool {
	switch x := v.(type) {
	case string:
		switch p {
		case "date":
			return isDate(x)
		case "dateTime":
			return isDateTime(x, false)
		case "instant":
			return isDateTime(x, true)
		case "time":
			return isTime(x)
		case "boolean", "integer", "positiveInt", "unsignedInt", "decimal":
			return false
		}
		return true
	case bool:
		return p == "boolean"
	case json.Number:
		return fitsNumber(string(x), p)
	case float64: // decoded without UseNumber
		whole := x == math.Trunc(x)
		switch p {
		case "decimal":
			return true
		case "integer":
			return whole
		case "positiveInt":
			return whole && x > 0
		case "unsignedInt":
			return whole && x >= 0
		}
	}
	return false
}

func fitsNumber(s, p string) bool {
	switch p {
	case "decimal":
		return true
	case "integer", "positiveInt", "unsignedInt":
		if strings.ContainsAny(s, ".eE") {
			return false
		}
		neg := strings.HasPrefix(s, "-")
		zero := strings.Trim(s, "-0") == ""
		switch p {
		case "positiveInt":
			return !neg && !zero
		case "unsignedInt":
			return !neg || zero
		}
		return true
	}
	return false
}

// fitsComplex reports whether every element of the object belongs to t
// (id, extensions and primitive-extension siblings aside).
func fitsComplex(v any, t string) bool {
	m, ok := v.(map[string]any)
	if !ok || m["resourceType"] != nil {
		return false
	}
	elems := complexElements[t]
	for k := range m {
		if k == "id" || k == "extension" || k == "modifierExtension" || strings.HasPrefix(k, "_") {
			continue
		}
		found := false
		for _, e := range elems {
			if e == k {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// isDate accepts YYYY, YYYY-MM and YYYY-MM-DD.
func isDate(s string) bool {
	switch len(s) {
	case 4, 7, 10:
	default:
		return false
	}
	return digitsAt(s, 0, 4) && (len(s) == 4 || s[4] == '-' && digitsAt(s, 5, 2) &&
		(len(s) == 7 || s[7] == '-' && digitsAt(s, 8, 2)))
}

// isDateTime accepts a date, or a full date with a time; instant requires
// the time and a zone.
func isDateTime(s string, instant bool) bool {
	d, t, hasT := strings.Cut(s, "T")
	if !isDate(d) {
		return false
	}
	if !hasT {
		return !instant
	}
	if len(d) != 10 || len(t) < 8 || !isTime(t[:8]) {
		return false
	}
	rest := t[8:]
	if strings.HasPrefix(rest, ".") {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	switch {
	case rest == "Z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && digitsAt(rest, 1, 2) && rest[3] == ':' && digitsAt(rest, 4, 2):
		return true
	}
	return false
}

// isTime accepts hh:mm:ss with optional fraction.
func isTime(s string) bool {
	if len(s) < 8 || !digitsAt(s, 0, 2) || s[2] != ':' || !digitsAt(s, 3, 2) || s[5] != ':' || !digitsAt(s, 6, 2) {
		return false
	}
	if len(s) == 8 {
		return true
	}
	return s[8] == '.' && len(s) > 9 && digitsAt(s, 9, len(s)-9)
}

func digitsAt(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
