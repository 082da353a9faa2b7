package mongo

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func change(typ, id string, version int64, body string, entries ...search.Entry) store.Change {
	m := store.MethodUpdate
	if version == 1 {
		m = store.MethodCreate
	}
	return store.Change{Type: typ, ID: id, PrevVersion: version - 1, Version: version,
		LastUpdated: t0.Add(time.Duration(version) * time.Minute), Method: m, Body: []byte(body), Index: entries}
}

func mustCommit(t *testing.T, s *Store, cs ...store.Change) {
	t.Helper()
	if err := s.Commit(t.Context(), cs); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// TestDecimalPrecision: the body is kept as BSON binary, never decoded, so
// FHIR decimals come back with every digit they were written with, through
// every read.
func TestDecimalPrecision(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	tag := search.Entry{Param: "_tag", Kind: search.Token, System: "urn:test", Code: "decimal"}
	for i, v := range []string{"1.10", "1.100", "12345678901234567890.5", "-0.0", "1e400"} {
		body := `{"resourceType":"Observation","id":"o","valueQuantity":{"value":` + v + `}}`
		id := string(rune('a' + i))
		mustCommit(t, s, change("Observation", id, 1, body, tag))

		cur, err := s.Current(t.Context(), "Observation", id)
		if err != nil || string(cur.Body) != body {
			t.Errorf("%s: Current body %s, %v; want %s", v, cur.Body, err, body)
		}
		ver, err := s.Version(t.Context(), "Observation", id, 1)
		if err != nil || string(ver.Body) != body {
			t.Errorf("%s: Version body %s, %v", v, ver.Body, err)
		}
		hist, err := s.History(t.Context(), store.HistoryQuery{Type: "Observation", ID: id, Count: 1})
		if err != nil || len(hist.Versions) != 1 || string(hist.Versions[0].Body) != body {
			t.Errorf("%s: History %+v, %v", v, hist.Versions, err)
		}
		// As stored: a BSON binary holding the exact bytes.
		raw, err := s.resOf("Observation").FindOne(t.Context(), bson.D{{Key: "_id", Value: "Observation/" + id}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		if sub, data, ok := raw.Lookup("b").BinaryOK(); !ok || sub != 0 || !bytes.Equal(data, []byte(body)) {
			t.Errorf("%s: stored b is %v, want binary of the exact bytes", v, raw.Lookup("b"))
		}
	}
	p := &search.Param{Code: "_tag", Type: search.Token}
	q := search.Query{Type: "Observation", Count: 10, Where: []search.Clause{{Any: []search.Predicate{
		{Param: p, Value: search.Value{Kind: search.Token, System: "urn:test", Code: "decimal", HasSystem: true}}}}}}
	page, err := s.Search(t.Context(), &q)
	if err != nil || len(page.Matches) != 5 {
		t.Fatalf("Search: %d matches, %v", len(page.Matches), err)
	}
	if got := string(page.Matches[2].Body); !bytes.Contains([]byte(got), []byte("12345678901234567890.5")) {
		t.Errorf("Search body %s lost digits", got)
	}
}

// TestNonAtomicRefused: without transactions and without AllowNonAtomic,
// a commit of several changes is refused before anything is written; one
// change is atomic anyway and goes through.
func TestNonAtomicRefused(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	if s.Transactions() {
		t.Skip("this deployment has transactions")
	}
	err := s.Commit(t.Context(), []store.Change{change("Patient", "a", 1, "{}"), change("Patient", "b", 1, "{}")})
	if !errors.Is(err, store.ErrNotSupported) {
		t.Fatalf("Commit of two changes = %v, want ErrNotSupported", err)
	}
	t.Log(err)
	for _, id := range []string{"a", "b"} {
		if _, err := s.Current(t.Context(), "Patient", id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Patient/%s after a refused commit: %v", id, err)
		}
	}
	mustCommit(t, s, change("Patient", "a", 1, "{}"))
}

// TestNonAtomicUndo: a conflict that a concurrent writer creates after the
// checks takes back the changes already applied.
func TestNonAtomicUndo(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	defer s.Close()
	ctx := t.Context()
	p1, q1 := change("Patient", "p", 1, `{"p":1}`), change("Patient", "q", 1, `{"q":1}`)
	mustCommit(t, s, p1, q1)
	s.beforeApply = func() {
		s.beforeApply = nil
		mustCommit(t, s, change("Patient", "q", 2, `{"q":"other writer"}`))
	}
	err := s.Commit(ctx, []store.Change{
		change("Patient", "p", 2, `{"p":2}`),
		change("Patient", "r", 1, `{"r":1}`),
		change("Patient", "q", 2, `{"q":2}`),
	})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.ID != "q" || ce.Want != 1 || ce.Have != 2 {
		t.Fatalf("Commit = %v, want a conflict on Patient/q (want 1, have 2)", err)
	}
	if cur, err := s.Current(ctx, "Patient", "p"); err != nil || cur.VersionID != 1 || string(cur.Body) != `{"p":1}` {
		t.Errorf("Patient/p after undo: %+v, %v; want version 1 as written", cur, err)
	}
	if _, err := s.Version(ctx, "Patient", "p", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Patient/p version 2 after undo: %v", err)
	}
	if _, err := s.Current(ctx, "Patient", "r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Patient/r after undo: %v", err)
	}
	h, err := s.History(ctx, store.HistoryQuery{Type: "Patient", Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range h.Versions {
		got = append(got, versionKey(v.Type, v.ID, v.VersionID))
	}
	if want := []string{"Patient/q/2", "Patient/q/1", "Patient/p/1"}; !equalStrings(got, want) {
		t.Errorf("history after undo %v, want %v", got, want)
	}
	// p's next version is free again.
	mustCommit(t, s, change("Patient", "p", 2, `{"p":"again"}`))
}

// TestAbandonedClaim plays a writer that crashed between claiming a
// version and writing its resource: the claim is invisible to readers,
// blocks the version number until it is abandonAfter old, and is then
// finished by the next writer, who gets a conflict.
func TestAbandonedClaim(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := t.Context()
	tag := func(code string) search.Entry {
		return search.Entry{Param: "_tag", Kind: search.Token, System: "urn:test", Code: code}
	}
	mustCommit(t, s, change("Patient", "p", 1, `{"v":1}`, tag("one")))

	// The crashed writer's step 3, and nothing after it.
	p, err := prepare(change("Patient", "p", 2, `{"v":2}`, tag("two")))
	if err != nil {
		t.Fatal(err)
	}
	high, err := s.highestSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seq := high + 1
	old, _ := s.resource(ctx, p.key, false)
	claim := p.versionDoc(seq, old.CS, true)
	if _, err := s.ver.InsertOne(ctx, claim); err != nil {
		t.Fatal(err)
	}

	if cur, err := s.Current(ctx, "Patient", "p"); err != nil || cur.VersionID != 1 {
		t.Fatalf("Current with a pending claim: %+v, %v; want version 1", cur, err)
	}
	if _, err := s.Version(ctx, "Patient", "p", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Version 2 while only claimed: %v, want ErrNotFound", err)
	}
	if h, err := s.History(ctx, store.HistoryQuery{Type: "Patient", ID: "p", Count: 10}); err != nil || len(h.Versions) != 1 {
		t.Errorf("History while claimed: %d versions, %v; want 1", len(h.Versions), err)
	}

	// A fresh claim is someone else's commit in flight: a conflict, and the
	// claim stays as it is.
	err = s.Commit(ctx, []store.Change{change("Patient", "p", 2, `{"v":"late"}`)})
	if ce := new(store.ConflictError); !errors.As(err, &ce) || ce.Have != 1 {
		t.Fatalf("Commit against a fresh claim = %v, want a conflict (have 1)", err)
	}
	if cur, _ := s.Current(ctx, "Patient", "p"); cur.VersionID != 1 {
		t.Fatalf("a fresh claim was finished early: version %d", cur.VersionID)
	}

	// Once abandoned, the next writer finishes it.
	s.abandonAfter = 0
	err = s.Commit(ctx, []store.Change{change("Patient", "p", 2, `{"v":"late"}`)})
	if ce := new(store.ConflictError); !errors.As(err, &ce) || ce.Want != 1 || ce.Have != 2 {
		t.Fatalf("Commit against an abandoned claim = %v, want a conflict (want 1, have 2)", err)
	}
	cur, err := s.Current(ctx, "Patient", "p")
	if err != nil || cur.VersionID != 2 || string(cur.Body) != `{"v":2}` {
		t.Fatalf("after finishing the claim: %+v, %v; want the claimed version 2", cur, err)
	}
	h, err := s.History(ctx, store.HistoryQuery{Type: "Patient", ID: "p", Count: 10})
	if err != nil || len(h.Versions) != 2 {
		t.Errorf("History after finishing: %d versions, %v; want 2", len(h.Versions), err)
	}
	// The finished version's index is the claim's.
	prm := &search.Param{Code: "_tag", Type: search.Token}
	for code, want := range map[string]int{"one": 0, "two": 1} {
		q := search.Query{Type: "Patient", Count: 10, Where: []search.Clause{{Any: []search.Predicate{
			{Param: prm, Value: search.Value{Kind: search.Token, Code: code}}}}}}
		if page, err := s.Search(ctx, &q); err != nil || len(page.Matches) != want {
			t.Errorf("_tag=%s: %d matches, %v; want %d", code, len(page.Matches), err, want)
		}
	}
	// Its predecessor got its end, for _at.
	h, err = s.History(ctx, store.HistoryQuery{Type: "Patient", ID: "p", Count: 10,
		AtLo: t0.Add(3 * time.Minute), AtHi: t0.Add(4 * time.Minute)})
	if err != nil || len(h.Versions) != 1 || h.Versions[0].VersionID != 2 {
		t.Errorf("_at after the claim's time: %+v, %v; want version 2 only", h.Versions, err)
	}
}

// TestSchemaNewerRefused: a database a newer server wrote is not opened.
func TestSchemaNewerRefused(t *testing.T) {
	s := openTest(t, Options{})
	db := s.db.Name()
	if _, err := s.meta.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: schemaDoc}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: SchemaVersion + 1}}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), serverURI, Options{Database: db}); err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	} else if !bytes.Contains([]byte(err.Error()), []byte("newer")) {
		t.Errorf("Open of a newer schema: %v, want it to say newer", err)
	}
}

// TestOpenTwice: indexes are created once, by name; a second Open (another
// server process on the same database, or a restart) changes nothing and
// sees the data.
func TestOpenTwice(t *testing.T) {
	a := openTest(t, Options{})
	defer a.Close()
	mustCommit(t, a, change("Patient", "p", 1, "{}"))
	before := map[string]map[string]bool{}
	for _, coll := range indexedColls {
		names, err := a.indexNames(t.Context(), coll)
		if err != nil {
			t.Fatal(err)
		}
		before[coll] = names
	}
	patients := resourcesPrefix + "Patient"
	names, err := a.indexNames(t.Context(), patients)
	if err != nil {
		t.Fatal(err)
	}
	before[patients] = names
	for _, ix := range indexes {
		if want := !ix.wildcard || a.server.wildcardIndexes(); before[ix.coll][ix.name] != want {
			t.Errorf("index %s.%s present %v, want %v", ix.coll, ix.name, before[ix.coll][ix.name], want)
		}
	}
	for _, ix := range resourceIndexes {
		if want := !ix.wildcard || a.server.wildcardIndexes(); before[patients][ix.name] != want {
			t.Errorf("index %s.%s present %v, want %v", patients, ix.name, before[patients][ix.name], want)
		}
	}
	b, err := Open(t.Context(), serverURI, Options{Database: a.db.Name()})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer b.Close()
	for coll, names := range before {
		after, err := b.indexNames(t.Context(), coll)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(names) {
			t.Errorf("%s: %d indexes after a second Open, %d before", coll, len(after), len(names))
		}
	}
	if v, err := b.Current(t.Context(), "Patient", "p"); err != nil || v.VersionID != 1 {
		t.Errorf("second store reads %+v, %v", v, err)
	}
	// The second store's writes continue the first one's sequence.
	mustCommit(t, b, change("Patient", "p", 2, "{}"))
	if v, err := a.Current(context.Background(), "Patient", "p"); err != nil || v.VersionID != 2 {
		t.Errorf("first store reads %+v, %v after the second wrote", v, err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSplitResources: a schema 2 database kept every type's resource
// documents in one collection; Open moves them to their types'
// collections (skipping any already moved, as after an interrupted
// move), drops the old one and records schema 3.
func TestSplitResources(t *testing.T) {
	ctx := t.Context()
	a := openTest(t, Options{})
	mustCommit(t, a, change("Patient", "p", 1, `{"resourceType":"Patient","id":"p"}`, search.Entry{Param: "gender", Kind: search.Token, Code: "female"}))
	mustCommit(t, a, change("Observation", "o", 1, `{"resourceType":"Observation","id":"o"}`))
	// Back to schema 2: the documents in one collection, Observation/o
	// also still in its new one.
	old := a.db.Collection(oneResourcesColl)
	for _, typ := range []string{"Patient", "Observation"} {
		cur, err := a.resOf(typ).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			if _, err := old.InsertOne(ctx, cur.Current); err != nil {
				t.Fatal(err)
			}
		}
		if typ == "Patient" {
			if err := a.resOf(typ).Drop(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := a.meta.UpdateOne(ctx, bson.D{{Key: "_id", Value: schemaDoc}}, bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 2}}}}); err != nil {
		t.Fatal(err)
	}
	db := a.db.Name()
	a.Close()

	b, err := Open(ctx, serverURI, Options{Database: db})
	if err != nil {
		t.Fatalf("Open of a schema 2 database: %v", err)
	}
	defer b.Close()
	for _, key := range []string{"Patient/p", "Observation/o"} {
		typ, id, _ := strings.Cut(key, "/")
		if v, err := b.Current(ctx, typ, id); err != nil || v.VersionID != 1 {
			t.Errorf("%s after the move: %+v, %v", key, v, err)
		}
	}
	page, err := b.Search(ctx, &search.Query{Type: "Patient", Count: 10,
		Where: []search.Clause{{Any: []search.Predicate{{Param: &search.Param{Code: "gender", Type: search.Token},
			Value: search.Value{Kind: search.Token, Code: "female"}}}}}})
	if err != nil || len(page.Matches) != 1 {
		t.Errorf("search after the move: %d matches, %v", len(page.Matches), err)
	}
	names, err := b.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: oneResourcesColl}})
	if err != nil || len(names) != 0 {
		t.Errorf("the old collection: %v, %v; want it dropped", names, err)
	}
	var rec struct {
		Version int `bson:"version"`
	}
	if err := b.meta.FindOne(ctx, bson.D{{Key: "_id", Value: schemaDoc}}).Decode(&rec); err != nil || rec.Version != SchemaVersion {
		t.Errorf("schema version %d, %v; want %d", rec.Version, err, SchemaVersion)
	}
}
