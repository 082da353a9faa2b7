package fhir

import (
	"fmt"
	"strconv"

	"github.com/telederm/telederm/fhir/jsontree"
)

// EncodeResource writes a resource held as JSON values (numbers as
// json.Number keep their text) in the layout the Codec's marshaller
// produces: resourceType first, every other member sorted by name, at
// every level, without HTML escaping. It checks nothing: it is for the
// server's own edits of a resource that was validated when it was written.
func EncodeResource(doc map[string]any) ([]byte, error) {
	typ, ok := doc["resourceType"].(string)
	if !ok || typ == "" {
		return nil, fmt.Errorf("fhir: encode: no resourceType")
	}
	rest := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "resourceType" {
			rest[k] = v
		}
	}
	enc, err := jsontree.Encode(rest) // keys sorted, as encoding/json writes maps
	if err != nil {
		return nil, fmt.Errorf("fhir: encode %s: %w", typ, err)
	}
	members := enc[1:] // after "{"
	out := make([]byte, 0, len(members)+len(typ)+20)
	out = append(out, `{"resourceType":`...)
	out = strconv.AppendQuote(out, typ)
	if len(members) > 1 { // not just "}"
		out = append(out, ',')
	}
	return append(out, members...), nil
}
