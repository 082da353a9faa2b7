package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
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
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rest); err != nil { // maps are written with sorted keys
		return nil, fmt.Errorf("fhir: encode %s: %w", typ, err)
	}
	members := bytes.TrimSpace(buf.Bytes())[1:] // after "{"
	out := make([]byte, 0, len(members)+len(typ)+20)
	out = append(out, `{"resourceType":`...)
	out = strconv.AppendQuote(out, typ)
	if len(members) > 1 { // not just "}"
		out = append(out, ',')
	}
	return append(out, members...), nil
}
