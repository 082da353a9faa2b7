package mongo

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

func openAuditStore(t *testing.T, s *Store) *AuditStore {
	t.Helper()
	a, err := s.AuditStore(context.Background())
	if err != nil {
		t.Fatalf("AuditStore: %v", err)
	}
	return a
}

// auditRows are five events, recorded 10 µs apart, numbered by their
// RequestID.
func auditRows() []auditstore.Row {
	return []auditstore.Row{
		{Recorded: 10, Action: "read", Status: 200, Client: "app1", Who: "Practitioner/dr1", Patient: "p1",
			Source: "10.0.0.1", RequestID: "1", Entities: []string{"Patient/p1"}},
		{Recorded: 20, Action: "search-type", Status: 200, Client: "app1", Who: "Practitioner/dr1",
			Source: "10.0.0.1", RequestID: "2", Entities: []string{"Observation/o1", "Observation/o2"}},
		{Recorded: 30, Action: "create", Status: 201, Client: "app2", Subject: "s2", Who: "Patient/p2",
			Source: "Host.Example", RequestID: "3", Entities: []string{"Observation/o3"}},
		{Recorded: 30, Action: "auth-token", Status: 401, Client: "app2", Source: "10.0.0.2", RequestID: "4"},
		{Recorded: 40, Action: "delete", Status: 500, Patient: "p2", Source: "a.b*c", RequestID: "5"},
	}
}

func requestIDs(rows []auditstore.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.RequestID)
	}
	return out
}

// TestAuditStoreConditions: each kind of condition, as the trail builds
// them, selects the rows it says, newest first.
func TestAuditStoreConditions(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { s.Close() })
	a := openAuditStore(t, s)
	ctx := context.Background()
	rows := auditRows()
	if err := a.Append(ctx, rows); err != nil {
		t.Fatal(err)
	}
	const lo, hi = math.MinInt64, math.MaxInt64
	for i, tc := range []struct {
		c    auditstore.Cond
		want []string
	}{
		{auditstore.All, []string{"5", "4", "3", "2", "1"}},
		{auditstore.None, nil},
		{auditstore.Key(rows[2].Key), []string{"3"}},
		{auditstore.Key("12345678"), nil}, // a SQLite key
		{auditstore.Range(auditstore.Recorded, 20, 40), []string{"4", "3", "2"}},
		{auditstore.Range(auditstore.Recorded, lo, 30), []string{"2", "1"}},
		{auditstore.Range(auditstore.Recorded, 30, hi), []string{"5", "4", "3"}},
		{auditstore.Range(auditstore.Status, 400, 500), []string{"4"}},
		{auditstore.In(auditstore.Action, "read", "create"), []string{"3", "1"}},
		{auditstore.In(auditstore.Client, "app2"), []string{"4", "3"}},
		{auditstore.In(auditstore.Subject, "s2"), []string{"3"}},
		{auditstore.Prefix(auditstore.Action, "auth-"), []string{"4"}},
		{auditstore.Not(auditstore.Prefix(auditstore.Action, "auth-")), []string{"5", "3", "2", "1"}},
		{auditstore.Prefix(auditstore.Source, "host.ex"), []string{"3"}}, // case-insensitive
		{auditstore.Prefix(auditstore.Source, "10.0.0."), []string{"4", "2", "1"}},
		{auditstore.Prefix(auditstore.Source, "10x0"), nil}, // "." is not a pattern
		{auditstore.Contains(auditstore.Source, "b*c"), []string{"5"}},
		{auditstore.Contains(auditstore.Source, "EXAMPLE"), []string{"3"}},
		{auditstore.Refers([]string{"Observation/o2"}, nil), []string{"2"}},
		{auditstore.Refers([]string{"Patient/p1"}, nil), []string{"1"}},
		{auditstore.Refers([]string{"Patient/p2"}, []string{"Patient/p2"}), []string{"5", "3"}}, // in context; as the user
		{auditstore.Refers(nil, []string{"Practitioner/dr1"}), []string{"2", "1"}},
		{auditstore.Refers(nil, nil), nil},
		{auditstore.And(auditstore.In(auditstore.Client, "app1"), auditstore.Range(auditstore.Recorded, 15, hi)), []string{"2"}},
		{auditstore.Or(auditstore.In(auditstore.Client, "app2"), auditstore.Refers([]string{"Patient/p1"}, nil)), []string{"4", "3", "1"}},
		{auditstore.Not(auditstore.Or(auditstore.Key(rows[0].Key), auditstore.Key(rows[4].Key))), []string{"4", "3", "2"}},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got, err := a.Page(ctx, tc.c, nil, false, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(requestIDs(got), tc.want) {
				t.Errorf("%+v: got %v, want %v", tc.c, requestIDs(got), tc.want)
			}
			n, err := a.Count(ctx, tc.c)
			if err != nil || n != len(tc.want) {
				t.Errorf("count %d %v, want %d", n, err, len(tc.want))
			}
		})
	}
}

// TestAuditStorePaging: pages in (recorded, key) order from a position
// see every row once, in both orders, and rows read back as written.
func TestAuditStorePaging(t *testing.T) {
	s := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { s.Close() })
	a := openAuditStore(t, s)
	ctx := context.Background()
	rows := auditRows()
	if err := a.Append(ctx, rows); err != nil {
		t.Fatal(err)
	}
	for _, asc := range []bool{true, false} {
		var seen []string
		var after *auditstore.Position
		for {
			page, err := a.Page(ctx, auditstore.All, after, asc, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			seen = append(seen, requestIDs(page)...)
			last := page[len(page)-1]
			after = &auditstore.Position{Recorded: last.Recorded, Key: last.Key}
		}
		want := []string{"1", "2", "3", "4", "5"}
		if rows[2].Key > rows[3].Key { // the two rows recorded at 30 order by key
			want[2], want[3] = want[3], want[2]
		}
		if !asc {
			slices.Reverse(want)
		}
		if !slices.Equal(seen, want) {
			t.Errorf("ascending %v: pages saw %v, want %v", asc, seen, want)
		}
	}
	got, ok, err := a.Get(ctx, rows[1].Key)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(rows[1]) {
		t.Errorf("read back %+v, wrote %+v", got, rows[1])
	}
	if _, ok, err := a.Get(ctx, "12345678"); ok || err != nil {
		t.Errorf("a key of another store: %v %v", ok, err)
	}
}

// TestAuditStoreTwoProcesses: two Stores on one database share the id key
// and each other's rows; keys are unique across them; a batch appended
// again after a failure (same keys) is not written twice.
func TestAuditStoreTwoProcesses(t *testing.T) {
	s1 := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { s1.Close() })
	s2 := openTest(t, Options{AllowNonAtomic: true, Database: s1.db.Name()})
	t.Cleanup(func() { s2.Close() })
	a, b := openAuditStore(t, s1), openAuditStore(t, s2)
	if !bytes.Equal(a.IDKey(), b.IDKey()) || len(a.IDKey()) != 32 {
		t.Fatalf("the two processes have different id keys")
	}
	ctx := context.Background()
	ra, rb := auditRows(), auditRows()
	if err := a.Append(ctx, ra); err != nil {
		t.Fatal(err)
	}
	if err := b.Append(ctx, rb); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, r := range append(ra, rb...) {
		if len(r.Key) != 12 || keys[r.Key] {
			t.Fatalf("key %x: want 12 bytes, unique", r.Key)
		}
		keys[r.Key] = true
	}
	if err := a.Append(ctx, ra[:3]); err != nil { // a retry of rows already written
		t.Fatalf("a retried batch: %v", err)
	}
	for _, st := range []*AuditStore{a, b} {
		if n, err := st.Count(ctx, auditstore.All); err != nil || n != 10 {
			t.Errorf("count %d %v, want 10", n, err)
		}
	}
	if _, ok, _ := a.Get(ctx, rb[4].Key); !ok {
		t.Errorf("the first process does not read the second's row")
	}
	if _, err := s1.AuditStore(ctx); err != nil { // indexes and key exist: nothing to do
		t.Errorf("a second AuditStore: %v", err)
	}
	names, err := s1.indexNames(ctx, auditEventsColl)
	if err != nil {
		t.Fatal(err)
	}
	for _, ix := range auditIndexes {
		if !names[ix.name] {
			t.Errorf("index %s is missing", ix.name)
		}
	}
	var doc bson.M
	if err := s1.db.Collection(auditEventsColl).FindOne(ctx, bson.D{}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["_id"].(bson.ObjectID); !ok {
		t.Errorf("_id is %T, want an ObjectID", doc["_id"])
	}
}
