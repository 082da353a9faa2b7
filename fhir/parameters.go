package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir/jsontree"
)

// google/fhir/go v0.7.4 types Parameters.parameter.resource as a protobuf
// Any and only knows how to read and write an Any under "contained", so it
// rejects every Parameters that carries a resource ("unknown element id").
// The codec works around it: each such resource is taken out of the
// document, parsed and validated on its own, and put back when marshalling.

// nestedResource is a resource found at parameter[i](.part[j])*.resource.
type nestedResource struct {
	path []int // index into parameter, then into part at each level
	res  *Resource
}

var (
	parametersMarker = []byte(`"Parameters"`)
	resourceMarker   = []byte(`"resource"`)
)

// mayHoldParameterResources is a cheap check that spares ordinary resources
// the generic decode below.
func mayHoldParameterResources(data []byte) bool {
	return bytes.Contains(data, parametersMarker) && bytes.Contains(data, resourceMarker)
}

// parseParameters parses a Parameters resource whose parameters hold
// resources. ok is false when data is not such a document, and the caller
// parses it the ordinary way.
func (c *Codec) parseParameters(data []byte) (r *Resource, o *Outcome, ok bool) {
	doc, err := decodeObject(data)
	if err != nil || doc["resourceType"] != "Parameters" {
		return nil, nil, false
	}
	var nested []nestedResource
	o = &Outcome{ResourceType: "OperationOutcome"}
	c.extractParameterResources(doc, "parameter", "Parameters", nil, &nested, o)
	if len(nested) == 0 && len(o.Issue) == 0 {
		return nil, nil, false
	}
	rest, err := encodeJSON(doc)
	if err != nil {
		return nil, nil, false
	}
	outer, outerOutcome := c.parse(rest)
	if outerOutcome != nil {
		o.Issue = append(outerOutcome.Issue, o.Issue...)
	}
	if len(o.Issue) > 0 {
		return nil, o, true
	}
	outer.nested = nested
	return outer, nil, true
}

// extractParameterResources walks parameter (or part) entries, parses and
// removes each "resource", recording where it was.
func (c *Codec) extractParameterResources(obj map[string]any, field, path string, at []int, out *[]nestedResource, o *Outcome) {
	list, _ := obj[field].([]any)
	for i, item := range list {
		p, ok := item.(map[string]any)
		if !ok {
			continue
		}
		here := fmt.Sprintf("%s.%s[%d]", path, field, i)
		idx := append(append([]int(nil), at...), i)
		if raw, has := p["resource"]; has {
			b, err := encodeJSON(raw)
			if err == nil {
				res, ro := c.Parse(b)
				if ro != nil {
					for _, is := range ro.Issue {
						is.Expression = rebase(is.Expression, here+".resource")
						o.Issue = append(o.Issue, is)
					}
				} else {
					*out = append(*out, nestedResource{path: idx, res: res})
				}
			}
			delete(p, "resource")
		}
		c.extractParameterResources(p, "part", here, idx, out, o)
	}
}

// rebase moves expressions of a nested resource ("Patient.birthDate") under
// the element that holds it.
func rebase(exprs []string, prefix string) []string {
	out := make([]string, len(exprs))
	for i, e := range exprs {
		if dot := strings.IndexByte(e, '.'); dot >= 0 {
			out[i] = prefix + e[dot:]
		} else {
			out[i] = prefix
		}
	}
	return out
}

// insertNested puts the nested resources back into the marshalled
// Parameters.
func (c *Codec) insertNested(outer []byte, nested []nestedResource) ([]byte, error) {
	doc, err := decodeObject(outer)
	if err != nil {
		return nil, err
	}
	for _, n := range nested {
		b, err := c.Marshal(n.res)
		if err != nil {
			return nil, err
		}
		target := doc
		field := "parameter"
		for _, i := range n.path {
			list, _ := target[field].([]any)
			if i >= len(list) {
				return nil, fmt.Errorf("fhir: parameter position %v lost in marshalling", n.path)
			}
			target, _ = list[i].(map[string]any)
			if target == nil {
				return nil, fmt.Errorf("fhir: parameter position %v is not an object", n.path)
			}
			field = "part"
		}
		target["resource"] = json.RawMessage(b)
	}
	return encodeJSON(doc)
}

// decodeObject decodes a JSON object keeping numbers as their exact text.
func decodeObject(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// encodeJSON encodes compactly without HTML escaping, so narrative markup
// stays as written.
func encodeJSON(v any) ([]byte, error) { return jsontree.Encode(v) }
