package mongo

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// shapeFixture has a value of every kind, one or several per parameter;
// it returns each resource's entries by key.
func shapeFixture(t *testing.T, s *Store) map[string][]search.Entry {
	t.Helper()
	tok := func(p, sys, code string) search.Entry {
		return search.Entry{Param: p, Kind: search.Token, System: sys, Code: code}
	}
	str := func(p, v string) search.Entry {
		return search.Entry{Param: p, Kind: search.String, Text: search.Normalize(v), Exact: v}
	}
	date := func(p string, lo, hi int64) search.Entry {
		return search.Entry{Param: p, Kind: search.Date, Lo: lo, Hi: hi}
	}
	qty := func(p, v, code string) search.Entry {
		n, lo, hi, err := search.DecimalRange(v)
		if err != nil {
			t.Fatal(err)
		}
		return search.Entry{Param: p, Kind: search.Quantity, Num: n, NumLo: lo, NumHi: hi, System: "http://unitsofmeasure.org", Code: code, Text: code}
	}
	ref := func(p, typ, id string) search.Entry {
		return search.Entry{Param: p, Kind: search.Reference, RefType: typ, RefID: id}
	}
	uri := func(p, u string) search.Entry { return search.Entry{Param: p, Kind: search.URI, URL: u} }
	entries := map[string][]search.Entry{}
	mk := func(id string, es ...search.Entry) store.Change {
		entries["Observation/"+id] = es
		return change("Observation", id, 1, "{}", es...)
	}
	mustCommit(t, s,
		mk("a", tok("code", "http://loinc.org", "8302-2"), str("note", "Left forearm"), date("date", 100, 200),
			qty("value-quantity", "172", "cm"), ref("subject", "Patient", "p1"), uri("instantiates", "http://x/a/b")),
		mk("b", tok("code", "http://loinc.org", "29463-7"), tok("code", "", "weight"), str("note", "Right arm"),
			date("date", 100, 150), date("date", 300, 400), qty("value-quantity", "70", "kg"), qty("value-quantity", "100", "mg"),
			ref("subject", "Group", "p1"), uri("instantiates", "http://x/a")),
		mk("c", str("note", "forearm rash"), date("date", 120, 180), ref("subject", "Patient", "p2")),
		mk("d"),
	)
	return entries
}

// shapeQueries cover every parameter type and the prefixes and modifiers
// whose translation differs.
func shapeQueries() map[string]search.Predicate {
	p := func(code string, typ search.Type) *search.Param { return &search.Param{Code: code, Type: typ} }
	code, note, date := p("code", search.Token), p("note", search.String), p("date", search.Date)
	qty, subj, inst := p("value-quantity", search.Quantity), p("subject", search.Reference), p("instantiates", search.URI)
	dv := func(prefix search.Prefix, lo, hi int64) search.Predicate {
		return search.Predicate{Param: date, Value: search.Value{Kind: search.Date, Prefix: prefix, Lo: lo, Hi: hi, ApLo: lo - 10, ApHi: hi + 10}}
	}
	qv := func(prefix search.Prefix, v, unit string) search.Predicate {
		n, lo, hi, _ := search.DecimalRange(v)
		return search.Predicate{Param: qty, Value: search.Value{Kind: search.Quantity, Prefix: prefix, Num: n, NumLo: lo, NumHi: hi,
			ApNumLo: n * 0.9, ApNumHi: n * 1.1, Code: unit}}
	}
	yes, no := true, false
	return map[string]search.Predicate{
		"token code":         {Param: code, Value: search.Value{Kind: search.Token, Code: "weight"}},
		"token system|code":  {Param: code, Value: search.Value{Kind: search.Token, System: "http://loinc.org", Code: "8302-2", HasSystem: true}},
		"token :not":         {Param: code, Modifier: ":not", Value: search.Value{Kind: search.Token, Code: "weight"}},
		"token :missing":     {Param: code, Missing: &yes},
		"string prefix":      {Param: note, Value: search.Value{Kind: search.String, Text: "left"}},
		"string :contains":   {Param: note, Modifier: ":contains", Value: search.Value{Kind: search.String, Text: "arm"}},
		"string :exact":      {Param: note, Modifier: ":exact", Value: search.Value{Kind: search.String, Exact: "Right arm"}},
		"date eq":            dv(search.Eq, 100, 200),
		"date ne":            dv(search.Ne, 100, 200),
		"date gt":            dv(search.Gt, 100, 200),
		"date le":            dv(search.Le, 110, 160),
		"date sa":            dv(search.Sa, 0, 100),
		"date ap":            dv(search.Ap, 250, 260),
		"date :not eq":       {Param: date, Modifier: ":not", Value: dv(search.Eq, 100, 200).Value},
		"quantity eq":        qv(search.Eq, "70", ""),
		"quantity eq unit":   qv(search.Eq, "100", "kg"),
		"quantity gt unit":   qv(search.Gt, "80", "mg"),
		"quantity lt":        qv(search.Lt, "100", ""),
		"reference typed":    {Param: subj, Value: search.Value{Kind: search.Reference, Ref: &search.RefValue{Type: "Patient", ID: "p1"}}},
		"reference id":       {Param: subj, Value: search.Value{Kind: search.Reference, Ref: &search.RefValue{ID: "p1"}}},
		"reference :missing": {Param: subj, Missing: &no},
		"uri":                {Param: inst, Value: search.Value{Kind: search.URI, URI: "http://x/a"}},
		"uri :below":         {Param: inst, Modifier: ":below", Value: search.Value{Kind: search.URI, URI: "http://x/a"}},
		"uri :above":         {Param: inst, Modifier: ":above", Value: search.Value{Kind: search.URI, URI: "http://x/a/b/c"}},
	}
}

// TestEvalAgreesWithServer: the Go evaluation that decides what the server
// answers as a superset must agree with the server wherever the server is
// exact, and stay inside its answer elsewhere.
func TestEvalAgreesWithServer(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	defer s.Close()
	entries := shapeFixture(t, s)
	all := scanAll(t, s, always)
	for name, pred := range shapeQueries() {
		t.Run(name, func(t *testing.T) {
			q := search.Query{Type: "Observation", Where: []search.Clause{{Any: []search.Predicate{pred}}}}
			n, err := (&translator{s: s, ctx: t.Context()}).query(&q)
			if err != nil {
				t.Fatal(err)
			}
			var server []string
			for _, d := range scanAll(t, s, n) {
				server = append(server, d.Key)
			}
			var goEval, reference []string
			for i := range all {
				if n.eval(&all[i]) {
					goEval = append(goEval, all[i].Key)
				}
			}
			exact := !needsEval(n)
			if exact && !slices.Equal(server, goEval) {
				t.Errorf("server %v, Go %v", server, goEval)
			}
			for _, k := range goEval {
				if !slices.Contains(server, k) {
					t.Errorf("Go finds %s, which the server's superset %v lacks", k, server)
				}
			}
			// And both agree with the reference semantics on the entries.
			for _, d := range all {
				if pred.MatchEntries(entries[d.Key]) {
					reference = append(reference, d.Key)
				}
			}
			if !slices.Equal(goEval, reference) {
				t.Errorf("Go %v, search.MatchEntries %v", goEval, reference)
			}
			t.Logf("server %v (exact %v), answer %v", server, exact, goEval)
		})
	}
}

// scanAll returns the live documents n's filter selects (without Go
// evaluation), in creation order.
func scanAll(t *testing.T, s *Store, n node) []resourceDoc {
	t.Helper()
	colls, err := s.collectionsOf(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	var docs []resourceDoc
	err = findAll(t.Context(), colls, bson.D{{Key: "$and", Value: bson.A{n.render(), bson.D{{Key: "del", Value: false}}}}},
		options.Find(), func(d *resourceDoc) bool {
			docs = append(docs, *d)
			return true
		})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(docs, func(a, b resourceDoc) int { return cmp.Compare(a.CS, b.CS) })
	return docs
}

// TestQueryShapes: every predicate is a condition on one path under x
// (and typed searches name their type, which picks the collection), which
// is what lets MongoDB answer it from the type's wildcard index
// {"x.$**": 1}. The filters, and what FerretDB's explain says of them,
// are logged.
func TestQueryShapes(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	defer s.Close()
	shapeFixture(t, s)
	for name, pred := range shapeQueries() {
		q := search.Query{Type: "Observation", Where: []search.Clause{{Any: []search.Predicate{pred}}}}
		n, err := (&translator{s: s, ctx: t.Context()}).query(&q)
		if err != nil {
			t.Fatal(err)
		}
		filter := n.render()
		if !hasTopLevel(filter, "type") {
			t.Errorf("%s: no type condition at the top: %v", name, filter)
		}
		for _, path := range leafPaths(filter) {
			parts := strings.Split(path, ".")
			ok := path == "_id" || path == "type" || path == "del" ||
				(parts[0] == "x" && (len(parts) == 2 || len(parts) == 3))
			if !ok {
				t.Errorf("%s: condition on %q, not on one parameter's values", name, path)
			}
		}
		var explain bson.M
		err = s.db.RunCommand(t.Context(), bson.D{{Key: "explain", Value: bson.D{
			{Key: "find", Value: resourcesPrefix + "Observation"}, {Key: "filter", Value: filter}}}}).Decode(&explain)
		ext, _ := bson.MarshalExtJSON(filter, false, false)
		t.Logf("%-18s %s\n\texplain: filterPushdown=%v sortPushdown=%v plan=%v (%v)", name, ext,
			explain["filterPushdown"], explain["sortPushdown"], explain["queryPlanner"], err)
	}
}

func hasTopLevel(filter bson.D, key string) bool {
	for _, e := range filter {
		if e.Key == key {
			return true
		}
		if e.Key == "$and" {
			for _, sub := range e.Value.(bson.A) {
				if hasTopLevel(sub.(bson.D), key) {
					return true
				}
			}
		}
	}
	return false
}

// leafPaths lists the field paths a filter tests.
func leafPaths(filter bson.D) []string {
	var out []string
	for _, e := range filter {
		switch e.Key {
		case "$and", "$or", "$nor":
			for _, sub := range e.Value.(bson.A) {
				out = append(out, leafPaths(sub.(bson.D))...)
			}
		default:
			out = append(out, e.Key)
		}
	}
	return out
}
