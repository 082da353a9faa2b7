package search

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// ixBase is the server base the table tests index under.
const ixBase = "https://example.org/fhir"

// indexCase is one table-test case: a resource indexed for hand-built
// parameters, and the entries expected (Param and Kind are filled in from
// the case's only parameter when left empty).
type indexCase struct {
	name     string
	resource string
	want     []Entry
}

// ixDecode decodes JSON the way the server does, keeping numbers'
// text.
func ixDecode(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// runIndexCases indexes every case with a registry of params and compares
// the entries with the case's (for which param, when it is one, fills in
// Param and Kind).
func runIndexCases(t *testing.T, params []Param, cases []indexCase) {
	t.Helper()
	reg := NewRegistry(params)
	if err := reg.Err(); err != nil {
		t.Fatal(err)
	}
	ix := NewIndexer(reg, ixBase)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ix.Entries(ixDecode(t, tc.resource))
			if err != nil {
				t.Fatal(err)
			}
			want := make([]Entry, len(tc.want))
			for i, e := range tc.want {
				if e.Param == "" && len(params) == 1 {
					e.Param, e.Kind = params[0].Code, params[0].Type
				}
				want[i] = e
			}
			want = sortIndexEntries(want)
			if len(got) == 0 && len(want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("entries:\n%s\nwant:\n%s", ixShow(got), ixShow(want))
			}
		})
	}
}

func ixShow(es []Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %+v\n", e)
	}
	return b.String()
}

// us is a UTC instant in µs since the epoch.
func ixMicros(y int, mo time.Month, d, h, mi, s, ns int) int64 {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixMicro()
}

func TestNewIndexerBase(t *testing.T) {
	for _, base := range []string{"https://example.org/fhir", "http://example.org/fhir/", "example.org/fhir"} {
		ix := NewIndexer(NewRegistry(nil), base)
		for ref, want := range map[string]bool{
			"https://example.org/fhir/Patient/1":  true,
			"http://example.org/fhir/Patient/1":   true,
			"HTTPS://Example.org/fhir/Patient/1":  true,
			"https://example.org/fhirx/Patient/1": false,
			"https://example.org/Patient/1":       false,
			"ftp://example.org/fhir/Patient/1":    false,
		} {
			if _, _, got := ix.local(ref); got != want {
				t.Errorf("base %q: local(%q) = %v, want %v", base, ref, got, want)
			}
		}
	}
	if _, _, ok := NewIndexer(NewRegistry(nil), "").local("https://example.org/fhir/Patient/1"); ok {
		t.Error("with no base, an absolute URL is local")
	}
}

func TestEntriesNoResourceType(t *testing.T) {
	if _, err := NewIndexer(NewRegistry(nil), ixBase).Entries(map[string]any{"id": "x"}); err == nil {
		t.Error("a resource without resourceType indexed without error")
	}
}

func TestEntriesSortedDeduplicated(t *testing.T) {
	params := []Param{
		{Code: "identifier", URL: "u:identifier", Type: Token, Base: []string{"Patient"}, Expression: "Patient.identifier"},
		{Code: "family", URL: "u:family", Type: String, Base: []string{"Patient"}, Expression: "Patient.name.family"},
		{Code: "_text", URL: "u:text", Type: Special, Base: []string{"Patient"}},
	}
	runIndexCases(t, params, []indexCase{{
		name: "duplicates collapse, order is param then value",
		resource: `{"resourceType":"Patient","name":[{"family":"Zed"},{"family":"Abel"},{"family":"Zed"}],
			"identifier":[{"system":"s","value":"2"},{"system":"s","value":"1"},{"system":"s","value":"2"}]}`,
		want: []Entry{
			{Param: "family", Kind: String, Text: "abel", Exact: "Abel"},
			{Param: "family", Kind: String, Text: "zed", Exact: "Zed"},
			{Param: "identifier", Kind: Token, System: "s", Code: "1"},
			{Param: "identifier", Kind: Token, System: "s", Code: "2"},
		},
	}})
}

func TestEntriesOpenRangesMarshal(t *testing.T) {
	// Open ends are finite so entries (and composite parts) marshal to JSON.
	es := []Entry{
		{Kind: Date, Lo: math.MinInt64, Hi: math.MaxInt64},
		{Kind: Quantity, NumLo: -math.MaxFloat64, NumHi: math.MaxFloat64},
	}
	if _, err := json.Marshal(es); err != nil {
		t.Error(err)
	}
}

func TestIndexesTellsWhetherATypeHasValuesToExtract(t *testing.T) {
	for _, tc := range []struct {
		reg  *Registry
		typ  string
		want bool
	}{
		{Default(), "Patient", true},
		{Default(), "Binary", true}, // _lastUpdated, _profile, ... of every resource
		{Default(), "NoSuchType", false},
		{NewRegistry(nil), "Patient", false}, // a server that indexes nothing
	} {
		if got := NewIndexer(tc.reg, "").Indexes(tc.typ); got != tc.want {
			t.Errorf("Indexes(%s) = %v, want %v", tc.typ, got, tc.want)
		}
	}
}
