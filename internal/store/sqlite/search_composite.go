package sqlite

import (
	"fmt"

	"github.com/telederm/telederm/fhir/search"
)

// A composite entry is one idx_composite row: code1 (the first part's
// code, indexed) and the parts as the JSON of []storedPart, where an absent
// field is empty or zero. A composite
// value matches a row when every part matches its part of the row; each
// part is tested with the same conditions as a plain parameter of its
// type, on json_extract of the part instead of table columns.
func (b *sqlBuilder) compositeCond(p search.Predicate) (string, error) {
	parts := p.Value.Parts
	if len(parts) == 0 {
		return "", fmt.Errorf("composite value of %s without parts", p.Param.Code)
	}
	var cond string
	if parts[0].Kind == search.Token && parts[0].Code != "" {
		cond = "code1 = " + b.arg(parts[0].Code) + " AND "
	}
	defer func() { b.cols = nil }()
	for i, part := range parts {
		fields, ok := partFields[part.Kind]
		if !ok {
			return "", fmt.Errorf("composite %s: a %s part cannot be searched", p.Param.Code, part.Kind)
		}
		b.cols = func(col string) string {
			zero := "''"
			if numericPartFields[fields[col]] {
				zero = "0"
			}
			return fmt.Sprintf("COALESCE(json_extract(parts, '$[%d].%s'), %s)", i, fields[col], zero)
		}
		c, err := b.valueCond(search.Predicate{Param: &search.Param{Code: p.Param.Code, Type: part.Kind}, Value: part})
		if err != nil {
			return "", err
		}
		if i > 0 {
			cond += " AND "
		}
		cond += "(" + c + ")"
	}
	return cond, nil
}

// numericPartFields are the part fields that hold numbers.
var numericPartFields = map[string]bool{"Lo": true, "Hi": true, "Num": true, "NumLo": true, "NumHi": true}

// partFields maps a table's value columns to the search.Entry fields that
// hold the same values in a composite part's JSON.
var partFields = map[search.Type]map[string]string{
	search.Token:     {"system": "System", "code": "Code", "text": "Text", "type_system": "TypeSystem", "type_code": "TypeCode"},
	search.String:    {"norm": "Text", "exact": "Exact"},
	search.Date:      {"lo": "Lo", "hi": "Hi"},
	search.Number:    {"lo": "NumLo", "hi": "NumHi", "num": "Num"},
	search.Quantity:  {"lo": "NumLo", "hi": "NumHi", "num": "Num", "system": "System", "code": "Code", "unit": "Text"},
	search.Reference: {"ref_type": "RefType", "ref_id": "RefID", "url": "URL", "version": "Version", "system": "System", "code": "Code"},
	search.URI:       {"uri": "URL"},
}
