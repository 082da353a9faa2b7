package subscription

import (
	"slices"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
)

// The index hands a change every subscription that could match it and,
// for subscriptions filed under a value, only those.
func TestMatchIndexCandidates(t *testing.T) {
	m := New(Config{BaseURL: "http://telederm.test"})
	defer m.Close()
	x := m.index
	add := func(id, criteria string) {
		spec, issues := m.parseSpec([]byte(criteriaSub(criteria)), 1)
		if len(issues) > 0 {
			t.Fatalf("%s: %v", criteria, issues)
		}
		spec.ID = id
		x.put(spec)
	}
	add("by-patient", "Observation?patient=Patient/p1")
	add("by-bare-id", "Observation?subject=p2")
	add("by-code-or", "Observation?code=a,b")
	add("by-string", "Patient?name=smith") // no equality to file under: by type
	add("category-1", "Observation?category=laboratory&code=c1")
	add("category-2", "Observation?category=laboratory&code=c2")
	entries := func(es ...search.Entry) []search.Entry { return es }
	ref := func(param, typ, id string) search.Entry {
		return search.Entry{Param: param, Kind: search.Reference, RefType: typ, RefID: id}
	}
	tok := func(param, code string) search.Entry {
		return search.Entry{Param: param, Kind: search.Token, Code: code}
	}
	ids := func(typ string, es []search.Entry) []string {
		var out []string
		for _, in := range x.candidates(typ, es, nil) {
			out = append(out, in.spec.ID)
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		typ  string
		es   []search.Entry
		want []string
	}{
		{"Observation", entries(ref("patient", "Patient", "p1")), []string{"by-patient"}},
		{"Observation", entries(ref("subject", "Patient", "p2"), ref("subject", "Group", "p2")), []string{"by-bare-id"}},
		{"Observation", entries(tok("code", "b")), []string{"by-code-or"}},
		// category-1 came first and went under category=laboratory, so a
		// laboratory result draws it (to be tested, and refused, on its code).
		{"Observation", entries(tok("category", "laboratory"), tok("code", "c2")), []string{"category-1", "category-2"}},
		{"Observation", entries(tok("category", "vital-signs"), tok("code", "c2")), []string{"category-2"}},
		{"Observation", entries(ref("patient", "Patient", "p9"), tok("code", "z")), nil},
		{"Patient", entries(), []string{"by-string"}},
	}
	for _, tt := range tests {
		if got := ids(tt.typ, tt.es); !slices.Equal(got, tt.want) {
			t.Errorf("candidates(%s, %v) = %v, want %v", tt.typ, tt.es, got, tt.want)
		}
	}
	// The second subscription on category=laboratory went under its code.
	if keys := x.byID["category-2"].keys; len(keys) != 1 || keys[0].param != "code" {
		t.Errorf("category-2 filed under %v, want its code", keys)
	}
	for _, id := range []string{"by-patient", "by-bare-id", "by-code-or", "by-string", "category-1", "category-2"} {
		x.remove(id)
	}
	if x.size() != 0 || len(x.byKey) != 0 || len(x.byType) != 0 || x.watches("Observation") {
		t.Errorf("after removing all: %d filed, %d keys, %d types", x.size(), len(x.byKey), len(x.byType))
	}
}

// Back-off doubles from RetryMin to RetryMax, with up to half of it
// random (equal jitter).
func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 1600*time.Millisecond
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: hi, 9: hi} {
		for range 20 {
			if d := backoff(lo, hi, n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, want/2, want)
			}
		}
	}
}
