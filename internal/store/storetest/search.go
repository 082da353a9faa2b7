package storetest

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearch runs the search groups, each on its own repository. Every
// group commits hand-written index entries (store.Change.Index) and builds
// its queries by hand, so the groups test the store's matching of entries
// against the FHIR R4 search rules, not extraction or parsing.
func testSearch(t *testing.T, open func(*testing.T) store.Repository) {
	groups := []struct {
		name string
		run  func(*testing.T, store.Repository)
	}{
		{"Values", testSearchValues},
		{"Lifecycle", testSearchLifecycle},
		{"References", testSearchReferences},
		{"Graph", testSearchGraph},
		{"Compartments", testSearchCompartments},
		{"Include", testSearchInclude},
		{"Sort", testSearchSort},
		{"SortMultiDate", testSearchSortMultiDate},
		{"DatePrecision", testSearchDatePrecision},
		{"TwoSidedRange", testSearchTwoSidedRange},
		{"Total", testSearchTotal},
		{"BadCursor", testSearchBadCursor},
		{"Composite", testSearchComposite},
		{"List", testSearchList},
		{"ID", testSearchID},
		{"StringSources", testSearchStringSources},
		{"TokenSources", testSearchTokenSources},
		{"Unsupported", testSearchUnsupported},
		{"PagingWhileWriting", testSearchPagingWhileWriting},
		{"WhileChanging", testSearchWhileChanging},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			g.run(t, open(t))
		})
	}
}

// searchCase is one query and the matches it must return, in order, as
// "Type/id".
type searchCase struct {
	name string
	q    search.Query
	want []string
}

// runSearchCases runs the cases as subtests against r. A case without a
// Count gets one large enough for every match to fit on one page.
func runSearchCases(t *testing.T, r store.Repository, cases []searchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			if q.Count == 0 {
				q.Count = 500
			}
			page, err := r.Search(t.Context(), &q)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := refsOf(page.Matches); !slices.Equal(got, tc.want) {
				t.Errorf("matches %v, want %v", got, tc.want)
			}
			if page.Next != "" {
				t.Errorf("Next = %q on a page that holds every match", page.Next)
			}
			checkCurrent(t, r, page.Matches)
		})
	}
}

// searchAll runs q and returns its matches, failing the test on an error.
func searchAll(t *testing.T, r store.Repository, q search.Query) store.SearchPage {
	t.Helper()
	if q.Count == 0 {
		q.Count = 500
	}
	page, err := r.Search(t.Context(), &q)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	return page
}

// checkCurrent fails unless every version is the resource's current,
// live version.
func checkCurrent(t *testing.T, r store.Repository, vs []store.Version) {
	t.Helper()
	for _, v := range vs {
		cur := current(t, r, v.Type, v.ID)
		if v.Deleted || cur.Deleted || v.VersionID != cur.VersionID || string(v.Body) != string(cur.Body) {
			t.Errorf("%s/%s: got version %d (deleted %v), current is %d (deleted %v)",
				v.Type, v.ID, v.VersionID, v.Deleted, cur.VersionID, cur.Deleted)
		}
	}
}

func refsOf(vs []store.Version) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.Type+"/"+v.ID)
	}
	return out
}

// sortedRefs is refsOf in lexical order, for results whose order the
// store does not define (_include, _revinclude).
func sortedRefs(vs []store.Version) []string {
	out := refsOf(vs)
	slices.Sort(out)
	return out
}

// ---- index entries ----

// us is t as the index's microseconds since the epoch.
func us(t time.Time) int64 { return t.UnixMicro() }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// span is the half-open range [lo, hi) of a date, in µs.
type span struct{ lo, hi int64 }

// Ranges that dates written at a given precision cover.
func years(y int) span                     { return span{us(day(y, 1, 1)), us(day(y+1, 1, 1))} }
func months(y int, m time.Month) span      { return span{us(day(y, m, 1)), us(day(y, m+1, 1))} }
func days(y int, m time.Month, d int) span { return span{us(day(y, m, d)), us(day(y, m, d+1))} }
func minutes(t time.Time) span             { return span{us(t), us(t.Add(time.Minute))} }
func seconds(t time.Time) span             { return span{us(t), us(t.Add(time.Second))} }

func eToken(param, system, code string) search.Entry {
	return search.Entry{Param: param, Kind: search.Token, System: system, Code: code}
}

func eTokenText(param, system, code, text string) search.Entry {
	e := eToken(param, system, code)
	e.Text = search.Normalize(text)
	return e
}

// eIdentifier is an Identifier with one type coding (typeCode may be empty).
func eIdentifier(param, system, value, typeSystem, typeCode string) search.Entry {
	e := eToken(param, system, value)
	e.TypeSystem, e.TypeCode = typeSystem, typeCode
	return e
}

func eString(param, value string) search.Entry {
	return search.Entry{Param: param, Kind: search.String, Text: search.Normalize(value), Exact: value}
}

func eDate(param string, s span) search.Entry {
	return search.Entry{Param: param, Kind: search.Date, Lo: s.lo, Hi: s.hi}
}

func eNumber(param, decimal string) search.Entry {
	v, lo, hi := decimal3(decimal)
	return search.Entry{Param: param, Kind: search.Number, Num: v, NumLo: lo, NumHi: hi}
}

func eQuantity(param, decimal, system, code, unit string) search.Entry {
	v, lo, hi := decimal3(decimal)
	return search.Entry{Param: param, Kind: search.Quantity, Num: v, NumLo: lo, NumHi: hi,
		System: system, Code: code, Text: unit}
}

func eRef(param, typ, id string) search.Entry {
	return search.Entry{Param: param, Kind: search.Reference, RefType: typ, RefID: id}
}

func eCanonical(param, url, version string) search.Entry {
	return search.Entry{Param: param, Kind: search.Reference, URL: url, Version: version}
}

// eRefIdentifier is a Reference that carries only an identifier.
func eRefIdentifier(param, system, value string) search.Entry {
	return search.Entry{Param: param, Kind: search.Reference, System: system, Code: value}
}

func eURI(param, uri string) search.Entry {
	return search.Entry{Param: param, Kind: search.URI, URL: uri}
}

func decimal3(s string) (v, lo, hi float64) {
	v, lo, hi, err := search.DecimalRange(s)
	if err != nil {
		panic(err)
	}
	return v, lo, hi
}

// ---- queries ----

func param(code string, typ search.Type) *search.Param {
	return &search.Param{Code: code, Type: typ}
}

// and makes a conjunction of single-predicate clauses.
func and(ps ...search.Predicate) []search.Clause {
	out := make([]search.Clause, len(ps))
	for i, p := range ps {
		out[i] = search.Clause{Any: []search.Predicate{p}}
	}
	return out
}

// or makes one clause of alternatives.
func or(ps ...search.Predicate) search.Clause {
	return search.Clause{Any: ps}
}

// qCode is a bare code: any system.
func qCode(p *search.Param, code string) search.Predicate {
	return search.Predicate{Param: p, Value: search.Value{Kind: p.Type, Code: code}}
}

// qSystemCode is "system|code"; "|code" when system is empty, "system|"
// when code is.
func qSystemCode(p *search.Param, system, code string) search.Predicate {
	return search.Predicate{Param: p, Value: search.Value{Kind: p.Type, System: system, Code: code, HasSystem: true}}
}

func qString(p *search.Param, s string) search.Predicate {
	return search.Predicate{Param: p, Value: search.Value{Kind: p.Type, Text: search.Normalize(s), Exact: s}}
}

func qDate(p *search.Param, prefix search.Prefix, s span) search.Predicate {
	return search.Predicate{Param: p, Value: search.Value{Kind: p.Type, Prefix: prefix, Lo: s.lo, Hi: s.hi}}
}

// qDateAp is ap on a date written as s, whose ap window the parser
// computed as window.
func qDateAp(p *search.Param, s, window span) search.Predicate {
	pr := qDate(p, search.Ap, s)
	pr.Value.ApLo, pr.Value.ApHi = window.lo, window.hi
	return pr
}

// qNumberAp is ap on a number written as decimal with the ap window
// [lo, hi).
func qNumberAp(p *search.Param, decimal string, lo, hi float64) search.Predicate {
	pr := qNumber(p, search.Ap, decimal)
	pr.Value.ApNumLo, pr.Value.ApNumHi = lo, hi
	return pr
}

func qNumber(p *search.Param, prefix search.Prefix, decimal string) search.Predicate {
	v, lo, hi := decimal3(decimal)
	return search.Predicate{Param: p, Value: search.Value{Kind: p.Type, Prefix: prefix, Num: v, NumLo: lo, NumHi: hi}}
}

func qQuantity(p *search.Param, prefix search.Prefix, decimal, system, code string) search.Predicate {
	pr := qNumber(p, prefix, decimal)
	pr.Value.System, pr.Value.Code = system, code
	return pr
}

func qRef(p *search.Param, typ, id string) search.Predicate {
	return search.Predicate{Param: p, Value: search.Value{Kind: p.Type, Ref: &search.RefValue{Type: typ, ID: id}}}
}

func qURI(p *search.Param, modifier, uri string) search.Predicate {
	return search.Predicate{Param: p, Modifier: modifier, Value: search.Value{Kind: p.Type, URI: uri}}
}

func qMissing(p *search.Param, missing bool) search.Predicate {
	return search.Predicate{Param: p, Modifier: ":missing", Missing: &missing}
}

// modified sets pr's modifier.
func modified(modifier string, pr search.Predicate) search.Predicate {
	pr.Modifier = modifier
	return pr
}

// chain is ref:typ.next (typ may be empty).
func chain(ref *search.Param, typ string, next search.Predicate) search.Predicate {
	return search.Predicate{Param: ref, Chain: &search.Chain{Type: typ, Next: next}}
}

// has is _has:typ:ref:next.
func has(typ string, ref *search.Param, next search.Predicate) search.Predicate {
	return search.Predicate{Has: &search.Has{Type: typ, RefParam: ref, Next: next}}
}

// refs prefixes ids with their type: refs("Patient", "a", "b").
func refs(typ string, ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = typ + "/" + id
	}
	return out
}

// resource is version 1 of typ/id with the given index entries.
func resource(typ, id string, at int, entries ...search.Entry) store.Change {
	c := write(typ, id, 1, minute(at))
	c.Index = entries
	return c
}

// maxDate is an open Period end.
const maxDate = math.MaxInt64
