package fhir

import (
	"encoding/json"
	"time"

	"github.com/telederm/telederm/fhir/jsontree"
)

// A Resource parsed by ParseTree keeps the JSON values it was parsed from
// (its tree) when Marshal would write exactly those values. Marshal then
// encodes the tree instead of the protocol buffer, and the search indexer
// reads the tree instead of decoding the marshalled bytes: on ingest that
// was a tenth of the server's CPU. SetID and SetMeta edit both forms; any
// other change to the resource drops the tree.
//
// The codec's marshaller rewrites some valid input. Those inputs keep no
// tree, so what is stored does not depend on which path wrote it:
//   - null members and empty arrays, which it drops;
//   - fractional seconds of other than 3 or 6 digits, which it pads or
//     cuts ("10:00:00.1" becomes "10:00:00.100");
//   - the offset "-00:00" (written "+00:00") and the integer "-0";
//   - resources nested in Parameters or Bundle (resourceType first), and
//     Binary (whose data moves to the blob store).

// ParseTree is Parse for data whose JSON values the caller already holds:
// doc must be jsontree.Decode(data), or nil to decode it here. The
// returned Resource may take doc over: the caller must not change it
// afterwards.
func (c *Codec) ParseTree(data []byte, doc map[string]any) (*Resource, *Outcome) {
	r, o := c.Parse(data)
	if o != nil {
		return nil, o
	}
	if len(r.nested) > 0 {
		return r, nil
	}
	switch r.Type() {
	case "Binary", "Bundle", "Parameters":
		return r, nil
	}
	if doc == nil {
		var err error
		if doc, err = jsontree.Decode(data); err != nil {
			return r, nil
		}
	}
	if plainValue(doc) {
		r.tree = doc
	}
	return r, nil
}

// Tree is the resource as JSON values (numbers as json.Number), exactly
// what Marshal writes, or nil when the resource keeps no tree. It is the
// resource's own: read it, do not change it.
func (r *Resource) Tree() map[string]any { return r.tree }

// setTreeMeta mirrors SetMeta on the tree.
func (r *Resource) setTreeMeta(versionID string, lastUpdated time.Time) {
	if r.tree == nil {
		return
	}
	meta, ok := r.tree["meta"].(map[string]any)
	if !ok {
		meta = map[string]any{}
		r.tree["meta"] = meta
	}
	meta["versionId"] = versionID
	meta["lastUpdated"] = lastUpdated.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// Plain reports whether Marshal would write the resource doc (JSON values
// as jsontree.Decode returns them) back exactly as it is (see above), so
// that doc may be stored as it is.
func Plain(doc map[string]any) bool {
	switch doc["resourceType"] {
	case "Binary", "Bundle", "Parameters":
		return false
	}
	return plainValue(doc)
}

// plainValue reports whether the codec's marshaller writes v back
// unchanged (see above).
func plainValue(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if e == nil || !plainValue(e) {
				return false
			}
		}
	case []any:
		if len(v) == 0 {
			return false
		}
		for _, e := range v {
			if e == nil || !plainValue(e) {
				return false
			}
		}
	case string:
		return plainString(v)
	case json.Number:
		return v != "-0"
	}
	return true
}

// plainString reports whether s, should it be a time, date-time or
// instant, has the fractional seconds and offset the marshaller writes.
func plainString(s string) bool {
	if len(s) < 8 || s[2] != ':' && (len(s) < 19 || s[13] != ':') {
		return true // neither a time nor a date-time: cheap common case
	}
	if len(s) >= 6 && s[len(s)-6:] == "-00:00" {
		return false
	}
	// Seconds end at hh:mm:ss; a fraction follows as ".ddd".
	for i := 0; i+8 < len(s); i++ {
		if s[i+2] == ':' && s[i+5] == ':' && isDigits(s[i:i+2]) && isDigits(s[i+3:i+5]) && isDigits(s[i+6:i+8]) {
			if i+8 >= len(s) || s[i+8] != '.' {
				return true
			}
			n := 0
			for j := i + 9; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
				n++
			}
			return n == 3 || n == 6
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
