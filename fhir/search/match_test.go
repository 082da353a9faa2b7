package search

import (
	"math"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// matches parses a one-parameter query on typ and matches its single
// clause against entries.
func matches(t *testing.T, typ, query string, entries []Entry) bool {
	t.Helper()
	q := mustParse(t, typ, query)
	if len(q.Where) != 1 {
		t.Fatalf("%s: want one clause, got %d", query, len(q.Where))
	}
	return q.Where[0].MatchEntries(entries)
}

type matchCase struct {
	query   string
	entries []Entry
	want    bool
}

func runMatchCases(t *testing.T, typ string, cases []matchCase) {
	t.Helper()
	for _, tt := range cases {
		if got := matches(t, typ, tt.query, tt.entries); got != tt.want {
			t.Errorf("%s?%s against %+v: %v, want %v", typ, tt.query, tt.entries, got, tt.want)
		}
	}
}

func dateEntry(code, s string) Entry {
	lo, hi, err := fhir.ParseDateRange(s)
	if err != nil {
		panic(err)
	}
	return Entry{Param: code, Kind: Date, Lo: lo.UnixMicro(), Hi: hi.UnixMicro()}
}

// periodEntry is a Period from start to end; "" is an open end.
func periodEntry(code, start, end string) Entry {
	e := Entry{Param: code, Kind: Date, Lo: math.MinInt64, Hi: math.MaxInt64}
	if start != "" {
		e.Lo = dateEntry(code, start).Lo
	}
	if end != "" {
		e.Hi = dateEntry(code, end).Hi
	}
	return e
}

func TestMatchMissing(t *testing.T) {
	name := Entry{Param: "name", Kind: String, Text: "x", Exact: "x"}
	birth := dateEntry("birthdate", "2000")
	runMatchCases(t, "Patient", []matchCase{
		{"name:missing=true", nil, true},
		{"name:missing=true", []Entry{birth}, true},
		{"name:missing=true", []Entry{name}, false},
		{"name:missing=false", []Entry{name, birth}, true},
		{"name:missing=false", []Entry{birth}, false},
		{"birthdate:missing=true", []Entry{name}, true},
		{"gender:missing=false", []Entry{{Param: "gender", Kind: Token, Code: "male"}}, true},
		{"organization:missing=true", []Entry{{Param: "organization", Kind: Reference, RefType: "Organization", RefID: "1"}}, false},
	})
	runMatchCases(t, "Observation", []matchCase{
		{"value-quantity:missing=true", nil, true},
		{"code-value-quantity:missing=false", []Entry{{Param: "code-value-quantity", Kind: Composite, Parts: []Entry{{Kind: Token}, {Kind: Quantity}}}}, true},
	})
}

func TestMatchClauseIsOr(t *testing.T) {
	es := []Entry{{Param: "gender", Kind: Token, Code: "female"}}
	runMatchCases(t, "Patient", []matchCase{
		{"gender=male,female", es, true},
		{"gender=male,other", es, false},
	})
	if (Clause{}).MatchEntries(es) {
		t.Error("an empty clause matched")
	}
}

func TestMatchNeedsOtherResources(t *testing.T) {
	es := []Entry{
		{Param: "subject", Kind: Reference, RefType: "Patient", RefID: "1"},
		{Param: "code", Kind: Token, Code: "x"},
	}
	for _, qs := range []string{"subject:Patient.name=x", "_list=1"} {
		if matches(t, "Observation", qs, es) {
			t.Errorf("%s matched on the resource's own entries", qs)
		}
	}
	if matches(t, "Patient", "_has:Observation:patient:code=x", es) {
		t.Error("_has matched on the resource's own entries")
	}
	// Entries of another kind under the same code never match.
	bad := Predicate{Param: &Param{Code: "code", Type: String}, Value: Value{Text: "x", Kind: String}}
	if bad.MatchEntries(es) {
		t.Error("a string predicate matched a token entry")
	}
}
