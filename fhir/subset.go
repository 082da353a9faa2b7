package fhir

import (
	"fmt"
	"strings"
)

// Summary modes of the _summary search parameter.
const (
	SummaryTrue  = "true"
	SummaryText  = "text"
	SummaryData  = "data"
	SummaryFalse = "false"
)

// subsetted is the tag a server puts on a resource it did not return whole.
var subsetted = map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}

// Subset returns the resource with only the top-level elements that
// _summary (true, text, data) or _elements keeps, tagged SUBSETTED as the
// spec asks. elements names top-level elements; resourceType, id, meta and
// the type's mandatory elements are always kept. With summary "" or
// "false" and no elements, body is returned unchanged.
func Subset(body []byte, summary string, elements []string) ([]byte, error) {
	if (summary == "" || summary == SummaryFalse) && len(elements) == 0 {
		return body, nil
	}
	doc, err := decodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("fhir: subset: %w", err)
	}
	typ, _ := doc["resourceType"].(string)
	var keep func(name string) bool
	switch summary {
	case SummaryTrue:
		keep = func(n string) bool {
			return hasElement(summaryElements[typ], n) || hasElement(mandatoryElements[typ], n)
		}
	case SummaryText:
		keep = func(n string) bool { return n == "text" || hasElement(mandatoryElements[typ], n) }
	case SummaryData:
		keep = func(n string) bool { return n != "text" }
	default:
		keep = func(n string) bool { return hasElement(elements, n) || hasElement(mandatoryElements[typ], n) }
	}
	for k := range doc {
		name := strings.TrimPrefix(k, "_") // _birthDate goes with birthDate
		if k == "resourceType" || name == "id" || name == "meta" {
			continue
		}
		if !keep(name) {
			delete(doc, k)
		}
	}
	tagSubsetted(doc)
	out, err := encodeJSON(doc)
	if err != nil {
		return nil, err
	}
	return resourceTypeFirst(out), nil
}

// hasElement reports whether name is one of the elements, a choice element
// such as "value[x]" taking its typed names ("valueQuantity").
func hasElement(elements []string, name string) bool {
	for _, e := range elements {
		if e == name {
			return true
		}
		if base, ok := strings.CutSuffix(e, "[x]"); ok && strings.HasPrefix(name, base) &&
			len(name) > len(base) && name[len(base)] >= 'A' && name[len(base)] <= 'Z' {
			return true
		}
	}
	return false
}

func tagSubsetted(doc map[string]any) {
	meta, _ := doc["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		doc["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, subsetted)
}
