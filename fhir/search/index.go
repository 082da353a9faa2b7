package search

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// Indexer computes the index entries a resource yields for the search
// parameters of its type, at write time. One file per parameter type says
// what is indexed for that type (index_token.go, index_string.go, ...).
//
// An Indexer is safe for concurrent use.
type Indexer struct {
	reg *Registry
	// base holds the server's base without its scheme and with a trailing
	// slash ("example.org/fhir/"): an absolute http or https reference that
	// continues with it is a reference to this server. Empty when no base
	// was given.
	base string
}

// maxCompositeEntries caps the combinations one composite value yields (the
// cartesian product of its components' values), so a pathological resource
// cannot blow the index up.
const maxCompositeEntries = 256

// NewIndexer returns an Indexer for the parameters of reg (Default() when
// nil). baseURL is the server's public base ("https://example.org/fhir"):
// references written as absolute URLs under it, by http or https, are
// indexed as local Type/id references.
func NewIndexer(reg *Registry, baseURL string) *Indexer {
	if reg == nil {
		reg = Default()
	}
	ix := &Indexer{reg: reg}
	b := strings.TrimRight(strings.TrimSpace(baseURL), "/")
	if i := strings.Index(b, "://"); i >= 0 {
		b = b[i+3:]
	}
	if b != "" {
		ix.base = b + "/"
	}
	return ix
}

// Indexes reports whether any parameter of typ extracts values, that is
// whether Entries can return anything for a resource of that type.
func (ix *Indexer) Indexes(typ string) bool {
	for _, p := range ix.reg.ForType(typ) {
		if p.Type != Special && p.Expression != "" && ix.reg.Expr(p) != nil {
			return true
		}
	}
	return false
}

// Entries returns every index entry of resource (decoded from JSON with
// json.Decoder.UseNumber) for all the parameters of its type, sorted by
// Param and then by value, with exact duplicates removed.
//
// Values that cannot be read as their parameter's type (a malformed date, a
// decimal that is not a number, a "#id" reference to a contained resource)
// yield no entry and no error: validation is not the indexer's job. An
// error means a parameter could not be evaluated at all (an expression
// outside the FHIRPath subset); the entries of every other parameter are
// still returned beside it.
func (ix *Indexer) Entries(resource map[string]any) ([]Entry, error) {
	return ix.entries(resource, nil)
}

// EntriesAfterMetaChange returns what Entries returns for resource, given
// old, the Entries of a version that differed from it only in meta (the
// server's own security labels and tags, versionId, lastUpdated): old's
// entries of the parameters that cannot read meta, and those of the
// others extracted afresh. The workflow relabels whole referrals in the
// commit that creates them, and extracting every parameter again was most
// of what a relabel cost.
func (ix *Indexer) EntriesAfterMetaChange(resource map[string]any, old []Entry) ([]Entry, error) {
	rt, _ := resource["resourceType"].(string)
	out := make([]Entry, 0, len(old)+4)
	for _, e := range old {
		p, ok := ix.reg.Lookup(rt, e.Param)
		if !ok {
			return ix.Entries(resource) // not this registry's entries
		}
		if !ix.reg.ReadsMeta(p) {
			out = append(out, e)
		}
	}
	fresh, err := ix.entries(resource, ix.reg.ReadsMeta)
	out = append(out, fresh...)
	if !slices.IsSortedFunc(out, compareIndexEntries) {
		slices.SortFunc(out, compareIndexEntries)
	}
	return out, err
}

// entries is Entries for the parameters want accepts (nil: all).
func (ix *Indexer) entries(resource map[string]any, want func(*Param) bool) ([]Entry, error) {
	rt, _ := resource["resourceType"].(string)
	if rt == "" {
		return nil, errors.New("search index: resource has no resourceType")
	}
	scratch := entryScratch.Get().(*[]Entry)
	defer entryScratch.Put(scratch)
	var (
		out  = (*scratch)[:0]
		errs []error
		// ForType lists parameters by code, so each parameter's entries
		// can be sorted on their own; the whole is sorted again only if
		// that order ever fails.
		prev    string
		ordered = true
	)
	plan := ix.reg.plan(rt)
	if plan == nil {
		return nil, nil // a type without parameters (the registry's types are R4's and its parameters' bases)
	}
	for i, p := range plan.params {
		if want != nil && !want(p) {
			continue
		}
		nodes, err := plan.exprs[i].Eval(resource)
		if err != nil {
			errs = append(errs, fmt.Errorf("search index: %s %s: %w", rt, p.Code, err))
			continue
		}
		start := len(out)
		for _, n := range nodes {
			if p.Type != Composite {
				out = ix.extract(out, p, n)
				continue
			}
			if out, err = ix.compositeEntries(out, resource, p, n); err != nil {
				errs = append(errs, fmt.Errorf("search index: %s %s: %w", rt, p.Code, err))
				break
			}
		}
		if len(out) > start {
			out = append(out[:start], sortIndexEntries(out[start:])...)
			ordered = ordered && p.Code > prev
			prev = p.Code
		}
	}
	if !ordered {
		out = sortIndexEntries(out)
	}
	var res []Entry
	if len(out) > 0 {
		res = slices.Clone(out)
	}
	*scratch = clear0(out)
	return res, errors.Join(errs...)
}

// entryScratch holds the slices Entries builds in, so that each call
// allocates only its result, at its size: entries are a few hundred bytes
// each, and a slice grown for the largest resource was most of what
// indexing a small one allocated.
var entryScratch = sync.Pool{New: func() any { s := make([]Entry, 0, 64); return &s }}

// clear0 zeroes es (so the pooled slice holds no strings alive) and
// returns it emptied.
func clear0(es []Entry) []Entry {
	clear(es)
	return es[:0]
}

// extract appends the entries one value yields for a (non-composite)
// parameter.
func (ix *Indexer) extract(dst []Entry, p *Param, n fhirpath.Node) []Entry {
	if m, isMap := n.Value.(map[string]any); isMap && (n.Type == "Extension" || n.Type == "" && m["url"] != nil && ixHasValueX(m)) {
		// An expression that selects an extension (custom parameters often
		// stop at extension('url')) means the extension's value.
		var ok bool
		if n, ok = ixExtensionValue(n); !ok {
			return dst
		}
	}
	switch p.Type {
	case Token:
		return indexToken(dst, p.Code, n)
	case String:
		return indexString(dst, p.Code, n)
	case Date:
		return indexDate(dst, p.Code, n)
	case Number:
		return indexNumber(dst, p.Code, n)
	case Quantity:
		return indexQuantity(dst, p.Code, n)
	case Reference:
		return ix.referenceEntries(dst, p, n)
	case URI:
		return indexURI(dst, p.Code, n)
	}
	return dst
}

// sortIndexEntries sorts es by Param and value and drops exact duplicates.
// An entry is a few hundred bytes: the checks compare in place, and the
// entries move only when they are out of order or repeated, which a
// parameter's few values seldom are.
func sortIndexEntries(es []Entry) []Entry {
	if len(es) < 2 {
		return es
	}
	sorted, unique := true, true
	for i := 1; i < len(es); i++ {
		switch c := compareEntries(&es[i-1], &es[i]); {
		case c > 0:
			sorted = false
		case c == 0:
			unique = false
		}
	}
	if sorted && unique {
		return es
	}
	if !sorted {
		slices.SortFunc(es, compareIndexEntries)
	}
	return slices.CompactFunc(es, func(a, b Entry) bool { return compareEntries(&a, &b) == 0 })
}

// compareIndexEntries orders entries by Param, Kind, then every value field.
func compareIndexEntries(a, b Entry) int { return compareEntries(&a, &b) }

func compareEntries(a, b *Entry) int {
	if c := strings.Compare(a.Param, b.Param); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	for _, f := range [...][2]string{
		{a.System, b.System}, {a.Code, b.Code}, {a.Text, b.Text},
		{a.TypeSystem, b.TypeSystem}, {a.TypeCode, b.TypeCode}, {a.Exact, b.Exact},
	} {
		if c := strings.Compare(f[0], f[1]); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.Lo, b.Lo); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Hi, b.Hi); c != 0 {
		return c
	}
	for _, f := range [...][2]float64{{a.Num, b.Num}, {a.NumLo, b.NumLo}, {a.NumHi, b.NumHi}} {
		if c := cmp.Compare(f[0], f[1]); c != 0 {
			return c
		}
	}
	for _, f := range [...][2]string{{a.RefType, b.RefType}, {a.RefID, b.RefID}, {a.URL, b.URL}, {a.Version, b.Version}} {
		if c := strings.Compare(f[0], f[1]); c != 0 {
			return c
		}
	}
	return slices.CompareFunc(a.Parts, b.Parts, compareIndexEntries)
}

// ixType is the FHIR type of a value: the type the path said (a choice
// element's suffix, as/ofType), else inferred from the JSON shape.
func ixType(n fhirpath.Node) string {
	if n.Type != "" {
		return n.Type
	}
	switch v := n.Value.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return "decimal"
		}
		return "integer"
	case float64:
		return "decimal"
	case map[string]any:
		return ixShape(v, n.Name)
	}
	return ""
}

// ixContactSystems are the ContactPoint.system codes (R4 contact-point-system).
var ixContactSystems = map[string]bool{
	"phone": true, "fax": true, "email": true, "pager": true, "url": true, "sms": true, "other": true,
}

// ixShape infers the FHIR type of a complex value whose path did not say it,
// from its keys and the element name it was found under. It returns "" when
// the shape fits none of the types search parameters index.
func ixShape(m map[string]any, name string) string {
	if rt, ok := m["resourceType"].(string); ok && rt != "" {
		return rt
	}
	has := func(k string) bool { _, ok := m[k]; return ok }
	switch {
	case name == "telecom":
		return "ContactPoint"
	case has("coding"):
		return "CodeableConcept"
	case has("reference"):
		return "Reference"
	case has("family") || has("given") || has("prefix") || has("suffix"):
		return "HumanName"
	case has("line") || has("city") || has("district") || has("state") || has("postalCode") || has("country"):
		return "Address"
	case has("currency"):
		return "Money"
	case has("low") || has("high"):
		return "Range"
	case has("event") || has("repeat"):
		return "Timing"
	case has("start") || has("end"):
		return "Period"
	case has("url") && ixHasValueX(m):
		return "Extension"
	case has("numerator") || has("denominator"):
		return "Ratio"
	case has("origin") && has("dimensions"):
		return "SampledData"
	case has("value"):
		switch m["value"].(type) {
		case json.Number, float64:
			return "Quantity"
		case string:
			if name == "identifier" || name == "masterIdentifier" {
				return "Identifier"
			}
			sys, _ := m["system"].(string)
			if has("rank") || ixContactSystems[sys] && !has("type") && !has("assigner") {
				return "ContactPoint"
			}
			return "Identifier"
		}
		return ""
	case has("identifier"):
		return "Reference" // identifier-only reference
	case has("unit") || has("comparator"):
		return "Quantity"
	case has("code") || has("system") || has("display"):
		return "Coding"
	case has("text"):
		return "CodeableConcept" // text only
	}
	return ""
}

// ixPrimitiveSuffixes are the value[x] suffixes that name primitive types,
// which FHIR spells in lower camel case ("valueDateTime" is a dateTime).
var ixPrimitiveSuffixes = map[string]bool{
	"Base64Binary": true, "Boolean": true, "Canonical": true, "Code": true,
	"Date": true, "DateTime": true, "Decimal": true, "Id": true,
	"Instant": true, "Integer": true, "Markdown": true, "Oid": true,
	"PositiveInt": true, "String": true, "Time": true, "UnsignedInt": true,
	"Uri": true, "Url": true, "Uuid": true,
}

// ixHasValueX reports whether m has a value[x] element ("valueCoding").
func ixHasValueX(m map[string]any) bool {
	for k := range m {
		if len(k) > 5 && strings.HasPrefix(k, "value") && k[5] >= 'A' && k[5] <= 'Z' {
			return true
		}
	}
	return false
}

// ixExtensionValue is an Extension's value[x], typed by its suffix.
func ixExtensionValue(n fhirpath.Node) (fhirpath.Node, bool) {
	m, ok := n.Value.(map[string]any)
	if !ok {
		return n, false
	}
	for k, v := range m {
		if len(k) <= 5 || !strings.HasPrefix(k, "value") || k[5] < 'A' || k[5] > 'Z' {
			continue
		}
		typ := k[5:]
		if ixPrimitiveSuffixes[typ] {
			typ = strings.ToLower(typ[:1]) + typ[1:]
		}
		return fhirpath.Node{Value: v, Type: typ, Name: k}, true
	}
	return n, false
}

// ixQuantityTypes are Quantity and its profiles.
var ixQuantityTypes = map[string]bool{
	"Quantity": true, "SimpleQuantity": true, "MoneyQuantity": true,
	"Age": true, "Count": true, "Distance": true, "Duration": true,
}

// str is m[k] as a string ("" when absent or not a string).
func ixStr(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// strs is m[k] as strings: a JSON array's string items, or a lone string.
func ixStrs(m map[string]any, k string) []string {
	switch v := m[k].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// maps is m[k] as objects: a JSON array's object items, or a lone object.
func ixObjs(m map[string]any, k string) []map[string]any {
	switch v := m[k].(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, x := range v {
			if o, ok := x.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	return nil
}

// ixNumText is the exact written text of a JSON number (json.Number keeps
// it; a float64 from a decoder without UseNumber is formatted back).
func ixNumText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return string(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}
