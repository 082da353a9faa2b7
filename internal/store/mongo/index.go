package mongo

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/telederm/telederm/fhir/search"
)

// A resource's search index is kept in its own document, derived from its
// index entries at write time:
//
//	x.<param>.<class>  arrays of scalars, one class per way a predicate
//	                   tests a value (the codes of a token, its
//	                   "system|code" pairs, a date's starts, its ends ...).
//	                   Every predicate is one condition on one such path,
//	                   so "some value matches" is exact without $elemMatch
//	                   (which FerretDB lacks for subdocuments, and applies
//	                   per condition, not per element, to scalars).
//	sk.<param>         the sort keys: the lowest value (a) and the highest (d)
//	refs               every local reference "Type/id", whatever parameter
//	mv                 the date, number and quantity parameters with several
//	                   values, where a predicate that tests two fields of one
//	                   value (eq, ap, a unit) is only a superset on x ...
//	vx                 ... and is decided on these entries (and composites,
//	                   always) in Go (filter.go).

// Classes of value under x.<param>.
const (
	clCode      = "c"   // token code
	clSystem    = "s"   // token system
	clSysCode   = "sc"  // token system \x01 code
	clText      = "t"   // token display or text, normalised (:text)
	clOfType    = "ot"  // identifier type system \x01 type code \x01 value (:of-type)
	clNorm      = "n"   // string, normalised
	clExact     = "e"   // string as written (:exact)
	clLo        = "lo"  // date start (µs, int64) or number range start (float64)
	clHi        = "hi"  // date end or number range end
	clNum       = "num" // number or quantity value
	clUnitSC    = "qsc" // quantity system \x01 code
	clUnit      = "qc"  // quantity code and unit as written
	clRef       = "r"   // reference "Type/id"
	clRefID     = "i"   // reference id
	clURL       = "u"   // uri, or a reference's absolute URL or canonical
	clURLVer    = "uv"  // canonical \x01 version
	clIDCode    = "ic"  // identifier of a reference: value
	clIDSystem  = "is"  // ... system
	clIDSysCode = "isc" // ... system \x01 value
	clPart0     = "k0"  // composite: the first part's code
)

// SearchIndex is the part of a resource document that search reads.
type SearchIndex struct {
	X    map[string]map[string][]any `bson:"x,omitempty"`
	SK   map[string]sortKey          `bson:"sk,omitempty"`
	Refs []string                    `bson:"refs,omitempty"`
	MV   []string                    `bson:"mv,omitempty"`
	VX   []entryDoc                  `bson:"vx,omitempty"`
}

// sortKey is a parameter's lowest (ascending) and highest (descending)
// value.
type sortKey struct {
	A any `bson:"a"`
	D any `bson:"d"`
}

// entryDoc is a search.Entry as vx keeps it.
type entryDoc struct {
	P     string     `bson:"p"`
	K     string     `bson:"k"`
	S     string     `bson:"s,omitempty"`
	C     string     `bson:"c,omitempty"`
	T     string     `bson:"t,omitempty"`
	E     string     `bson:"e,omitempty"`
	Lo    int64      `bson:"lo,omitempty"`
	Hi    int64      `bson:"hi,omitempty"`
	N     float64    `bson:"n,omitempty"`
	NL    float64    `bson:"nl,omitempty"`
	NH    float64    `bson:"nh,omitempty"`
	RT    string     `bson:"rt,omitempty"`
	RI    string     `bson:"ri,omitempty"`
	U     string     `bson:"u,omitempty"`
	V     string     `bson:"v,omitempty"`
	TS    string     `bson:"ts,omitempty"`
	TC    string     `bson:"tc,omitempty"`
	Parts []entryDoc `bson:"parts,omitempty"`
}

func toEntryDoc(e search.Entry) entryDoc {
	d := entryDoc{P: e.Param, K: string(e.Kind), S: e.System, C: e.Code, T: e.Text, E: e.Exact,
		Lo: e.Lo, Hi: e.Hi, N: e.Num, NL: e.NumLo, NH: e.NumHi, RT: e.RefType, RI: e.RefID,
		U: e.URL, V: e.Version, TS: e.TypeSystem, TC: e.TypeCode}
	for _, p := range e.Parts {
		d.Parts = append(d.Parts, toEntryDoc(p))
	}
	return d
}

func (d entryDoc) entry() search.Entry {
	e := search.Entry{Param: d.P, Kind: search.Type(d.K), System: d.S, Code: d.C, Text: d.T, Exact: d.E,
		Lo: d.Lo, Hi: d.Hi, Num: d.N, NumLo: d.NL, NumHi: d.NH, RefType: d.RT, RefID: d.RI,
		URL: d.U, Version: d.V, TypeSystem: d.TS, TypeCode: d.TC}
	for _, p := range d.Parts {
		e.Parts = append(e.Parts, p.entry())
	}
	return e
}

// checkEntries reports entries the index cannot hold.
func checkEntries(entries []search.Entry) error {
	for _, e := range entries {
		switch {
		case e.Param == "":
			return errors.New("an index entry without a parameter")
		case e.Kind == search.Composite && len(e.Parts) == 0:
			return fmt.Errorf("composite entry of %s without parts", e.Param)
		}
		switch e.Kind {
		case search.Token, search.String, search.Date, search.Number, search.Quantity,
			search.Reference, search.URI, search.Composite:
		default:
			return fmt.Errorf("entry of %s has unknown kind %q", e.Param, e.Kind)
		}
	}
	return nil
}

// buildIndex derives a resource's index document from its entries.
func buildIndex(typ string, entries []search.Entry) SearchIndex {
	var d SearchIndex
	if len(entries) == 0 {
		return d
	}
	d.X = map[string]map[string][]any{}
	d.SK = map[string]sortKey{}
	ranges := map[string]int{}
	for _, e := range entries {
		addSortKey(d.SK, typ, e)
		switch e.Kind {
		case search.Date, search.Number, search.Quantity:
			ranges[e.Param]++
		}
	}
	for _, e := range withoutRepeats(typ, entries) {
		f := fieldName(e.Param)
		if d.X[f] == nil {
			d.X[f] = map[string][]any{}
		}
		addValues(d.X[f], e)
		if e.Kind == search.Reference && e.RefType != "" && e.RefID != "" {
			d.Refs = appendNew(d.Refs, e.RefType+"/"+e.RefID)
		}
	}
	for p, n := range ranges {
		if n > 1 {
			d.MV = append(d.MV, p)
		}
	}
	slices.Sort(d.MV)
	for _, e := range entries {
		if e.Kind == search.Composite || ranges[e.Param] > 1 {
			d.VX = append(d.VX, toEntryDoc(e))
		}
	}
	return d
}

// addValues adds one entry's values to its parameter's classes.
func addValues(x map[string][]any, e search.Entry) {
	add := func(class string, v any) {
		if !slices.Contains(x[class], v) {
			x[class] = append(x[class], v)
		}
	}
	switch e.Kind {
	case search.Token:
		add(clCode, e.Code)
		add(clSystem, e.System)
		add(clSysCode, joinKey(e.System, e.Code))
		if e.Text != "" {
			add(clText, e.Text)
		}
		if e.TypeSystem != "" || e.TypeCode != "" {
			add(clOfType, joinKey(e.TypeSystem, e.TypeCode, e.Code))
		}
	case search.String:
		add(clNorm, e.Text)
		add(clExact, e.Exact)
	case search.Date:
		add(clLo, e.Lo)
		add(clHi, e.Hi)
	case search.Number, search.Quantity:
		add(clNum, e.Num)
		add(clLo, e.NumLo)
		add(clHi, e.NumHi)
		if e.Kind == search.Quantity {
			add(clUnitSC, joinKey(e.System, e.Code))
			for _, u := range []string{e.Code, e.Text} {
				if u != "" {
					add(clUnit, u)
				}
			}
		}
	case search.Reference:
		if e.RefType != "" && e.RefID != "" {
			add(clRef, e.RefType+"/"+e.RefID)
		}
		if e.RefID != "" {
			add(clRefID, e.RefID)
		}
		if e.URL != "" {
			add(clURL, e.URL)
			add(clURLVer, joinKey(e.URL, e.Version))
		}
		if e.Code != "" {
			add(clIDCode, e.Code)
			add(clIDSystem, e.System)
			add(clIDSysCode, joinKey(e.System, e.Code))
		}
	case search.URI:
		add(clURL, e.URL)
	case search.Composite:
		add(clPart0, e.Parts[0].Code)
	}
}

// sortValue is the value an entry sorts by, as the SQLite backend orders
// them; false for kinds that do not sort.
func sortValue(e search.Entry) (any, bool) {
	switch e.Kind {
	case search.String:
		return e.Text, true
	case search.Token:
		return e.Code, true
	case search.Date:
		return e.Lo, true
	case search.Number, search.Quantity:
		return e.Num, true
	case search.Reference:
		return e.RefType + "/" + e.RefID, true
	case search.URI:
		return e.URL, true
	}
	return nil, false
}

// addSortKey widens the sort keys the entry counts for: its parameter's,
// and for a string, those of the wider parameters that search it
// (search.Sources: a family name sorts Patient.name too).
func addSortKey(sk map[string]sortKey, typ string, e search.Entry) {
	v, ok := sortValue(e)
	if !ok {
		return
	}
	params := []string{e.Param}
	if e.Kind == search.String {
		params = sortTargets(typ, e.Param)
	}
	for _, p := range params {
		f := fieldName(p)
		k, seen := sk[f]
		if !seen {
			sk[f] = sortKey{A: v, D: v}
			continue
		}
		if c, ok := compareValues(v, k.A); ok && c < 0 {
			k.A = v
		}
		if c, ok := compareValues(v, k.D); ok && c > 0 {
			k.D = v
		}
		sk[f] = k
	}
}

var sortTargetsCache sync.Map // [2]string{typ, param} -> []string

// sortTargets are the string parameters of typ whose sort a value of param
// counts for: param itself, unless it is an alias (whose values are its
// base's), and every parameter whose Sources list it.
func sortTargets(typ, param string) []string {
	key := [2]string{typ, param}
	if v, ok := sortTargetsCache.Load(key); ok {
		return v.([]string)
	}
	reg := search.Default()
	var out []string
	if !reg.StringSources(typ, param).Alias {
		out = append(out, param)
	}
	for _, p := range reg.ForType(typ) {
		if p.Type != search.String || p.Code == param {
			continue
		}
		if slices.Contains(reg.StringSources(typ, p.Code).Params, param) {
			out = append(out, p.Code)
		}
	}
	sortTargetsCache.Store(key, out)
	return out
}

// withoutRepeats drops the string entries a search finds under another
// parameter anyway (search.Sources), as the SQLite backend does: an alias's
// entries, and a wider parameter's values a narrower one of the same
// resource holds too.
func withoutRepeats(typ string, entries []search.Entry) []search.Entry {
	reg := search.Default()
	type value struct{ param, text, exact string }
	have := map[value]bool{}
	for _, e := range entries {
		if e.Kind == search.String {
			have[value{e.Param, e.Text, e.Exact}] = true
		}
	}
	if len(have) == 0 {
		return entries
	}
	out := make([]search.Entry, 0, len(entries))
	for _, e := range entries {
		if e.Kind == search.String {
			src := reg.StringSources(typ, e.Param)
			if src.Alias {
				continue
			}
			if slices.ContainsFunc(src.Params[1:], func(narrow string) bool { return have[value{narrow, e.Text, e.Exact}] }) {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

// fieldName makes a parameter code safe as a document field name: '.'
// would be read as a path, a leading '$' as an operator.
func fieldName(code string) string {
	if !strings.ContainsAny(code, ".%$") {
		return code
	}
	r := strings.NewReplacer("%", "%25", ".", "%2E", "$", "%24")
	return r.Replace(code)
}

// joinKey joins the parts of a compound value with \x01, escaping \x01
// and \x02 inside parts, so distinct parts never give the same key.
func joinKey(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(1)
		}
		for j := 0; j < len(p); j++ {
			if c := p[j]; c == 1 || c == 2 {
				b.WriteByte(2)
			}
			b.WriteByte(p[j])
		}
	}
	return b.String()
}

// splitKey undoes joinKey.
func splitKey(k string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == 2 && i+1 < len(k):
			i++
			cur.WriteByte(k[i])
		case c == 1:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

// compareValues orders two sort or index values of the same family
// (numbers, strings); ok is false across families.
func compareValues(a, b any) (int, bool) {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return strings.Compare(x, y), ok
	case int64:
		switch y := b.(type) {
		case int64:
			return cmp.Compare(x, y), true
		case float64:
			return cmp.Compare(float64(x), y), true
		}
	case float64:
		switch y := b.(type) {
		case float64:
			return cmp.Compare(x, y), true
		case int64:
			return cmp.Compare(x, float64(y)), true
		}
	case int32:
		return compareValues(int64(x), b)
	case bool:
		y, ok := b.(bool)
		if !ok || x == y {
			return 0, ok
		}
		if !x {
			return -1, true
		}
		return 1, true
	}
	if y, ok := b.(int32); ok {
		return compareValues(a, int64(y))
	}
	return 0, false
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
