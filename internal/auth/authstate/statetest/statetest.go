// Package statetest is the behaviour every authstate.State must have,
// run against each implementation (the files-and-memory state of
// internal/auth, the MongoDB one of internal/store/mongo).
package statetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
)

// Run runs the behaviour tests; open returns an empty State whose clock
// is the real one.
func Run(t *testing.T, open func(t *testing.T) authstate.State) {
	t.Run("Documents", func(t *testing.T) { testDocuments(t, open(t)) })
	t.Run("DocumentWriteRace", func(t *testing.T) { testDocumentRace(t, open(t)) })
	t.Run("Records", func(t *testing.T) { testRecords(t, open(t)) })
	t.Run("RecordInsertRace", func(t *testing.T) { testRecordRace(t, open(t)) })
	t.Run("FindAndList", func(t *testing.T) { testFind(t, open(t)) })
}

// Document names the server uses (a State may accept no others).
const docName = "clients"

func testDocuments(t *testing.T, st authstate.State) {
	ctx := context.Background()
	data, v, err := st.LoadDoc(ctx, docName)
	if err != nil || v != 0 || data != nil {
		t.Fatalf("LoadDoc of a missing document = %q, %d, %v; want nil, 0, nil", data, v, err)
	}
	v1, err := st.SaveDoc(ctx, docName, []byte(`{"n":1}`), 0)
	if err != nil || v1 == 0 {
		t.Fatalf("first SaveDoc = %d, %v", v1, err)
	}
	steps := []struct {
		name    string
		data    string
		version int64
		want    error
	}{
		{"over a stale version (absent)", `{"n":"stale"}`, 0, authstate.ErrConflict},
		{"over a made-up version", `{"n":"made up"}`, v1 + 12345, authstate.ErrConflict},
		{"over the current version", `{"n":2}`, v1, nil},
		{"over the version just replaced", `{"n":"late"}`, v1, authstate.ErrConflict},
	}
	cur, curData := v1, `{"n":1}`
	for _, s := range steps {
		nv, err := st.SaveDoc(ctx, docName, []byte(s.data), s.version)
		if !errors.Is(err, s.want) {
			t.Fatalf("SaveDoc %s: %v, want %v", s.name, err, s.want)
		}
		if err == nil {
			if nv == cur || nv == 0 {
				t.Fatalf("SaveDoc %s: version %d, want a new one (was %d)", s.name, nv, cur)
			}
			cur, curData = nv, s.data
		}
		data, v, err := st.LoadDoc(ctx, docName)
		if err != nil || v != cur || !bytes.Equal(bytes.TrimSpace(data), []byte(curData)) {
			t.Fatalf("after SaveDoc %s: LoadDoc = %q, %d, %v; want %s, %d", s.name, data, v, err, curData, cur)
		}
		if dv, err := st.DocVersion(ctx, docName); err != nil || dv != cur {
			t.Fatalf("after SaveDoc %s: DocVersion = %d, %v; want %d", s.name, dv, err, cur)
		}
	}
}

// testDocumentRace: of writers of the same version, exactly one wins.
func testDocumentRace(t *testing.T, st authstate.State) {
	ctx := context.Background()
	v, err := st.SaveDoc(ctx, docName, []byte(`{"n":0}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.SaveDoc(ctx, docName, []byte(fmt.Sprintf(`{"n":%d}`, i+1)), v)
		}()
	}
	wg.Wait()
	oneWon(t, errs, authstate.ErrConflict, fmt.Sprintf("SaveDoc of version %d", v))
}

func testRecords(t *testing.T, st authstate.State) {
	ctx := context.Background()
	now := time.Now()
	live := authstate.Record{Key: "k1", Data: []byte(`{"a":1}`), Expires: now.Add(time.Hour), Labels: []string{"family:f1", "sub:u1"}}
	if err := st.Insert(ctx, "code", live); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"insert an existing key", func() error { return st.Insert(ctx, "code", live) }, authstate.ErrExists},
		{"insert the same key in another kind", func() error { return st.Insert(ctx, "code-used", live) }, nil},
		{"get a missing key", func() error { _, err := st.Get(ctx, "code", "nope"); return err }, authstate.ErrNotFound},
		{"replace a missing key", func() error { return st.Replace(ctx, "code", "nope", []byte(`{}`)) }, authstate.ErrNotFound},
		{"delete a missing key", func() error { return st.Delete(ctx, "code", "nope") }, nil},
		{"insert an expired record", func() error {
			return st.Insert(ctx, "code", authstate.Record{Key: "old", Data: []byte(`{"v":"old"}`), Expires: now.Add(-time.Second)})
		}, nil},
		{"insert over an expired record", func() error {
			return st.Insert(ctx, "code", authstate.Record{Key: "old", Data: []byte(`{"v":"new"}`), Expires: now.Add(time.Hour)})
		}, nil},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	got, err := st.Get(ctx, "code", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, live.Data) || got.Key != "k1" || !slices.Equal(got.Labels, live.Labels) ||
		got.Expires.Sub(live.Expires).Abs() > time.Millisecond {
		t.Fatalf("Get = %+v, want %+v", got, live)
	}
	if got, err := st.Get(ctx, "code", "old"); err != nil || string(got.Data) != `{"v":"new"}` {
		t.Fatalf("record inserted over an expired one: %q, %v", got.Data, err)
	}
	if err := st.Replace(ctx, "code", "k1", []byte(`{"a":2}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "code", "k1"); err != nil || string(got.Data) != `{"a":2}` ||
		got.Expires.Sub(live.Expires).Abs() > time.Millisecond || !slices.Equal(got.Labels, live.Labels) {
		t.Fatalf("after Replace: %+v, %v; want the new data with the old expiry and labels", got, err)
	}
	if err := st.Delete(ctx, "code", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "code", "k1"); !errors.Is(err, authstate.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "code-used", "k1"); err != nil {
		t.Fatalf("Delete of one kind removed another's record: %v", err)
	}
}

// testRecordRace: of inserts of one key, exactly one wins (a code
// redeemed once, an assertion id used once).
func testRecordRace(t *testing.T, st authstate.State) {
	ctx := context.Background()
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.Insert(ctx, "code-used", authstate.Record{Key: "once", Data: []byte(`{}`), Expires: time.Now().Add(time.Minute)})
		}()
	}
	wg.Wait()
	oneWon(t, errs, authstate.ErrExists, "Insert of one key")
}

func testFind(t *testing.T, st authstate.State) {
	ctx := context.Background()
	now := time.Now()
	for _, r := range []struct {
		kind string
		rec  authstate.Record
	}{
		{"refresh", authstate.Record{Key: "a", Expires: now.Add(time.Hour), Labels: []string{"family:f1", "sub:jane"}}},
		{"refresh", authstate.Record{Key: "b", Expires: now.Add(time.Hour), Labels: []string{"family:f1", "sub:jane"}}},
		{"refresh", authstate.Record{Key: "c", Expires: now.Add(time.Hour), Labels: []string{"family:f2", "sub:bob"}}},
		{"refresh", authstate.Record{Key: "d", Expires: now.Add(-time.Second), Labels: []string{"family:f1", "sub:jane"}}},
		{"revoked", authstate.Record{Key: "e", Expires: now.Add(time.Hour), Labels: []string{"family:f1"}}},
	} {
		r.rec.Data = []byte(`{}`)
		if err := st.Insert(ctx, r.kind, r.rec); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(recs []authstate.Record, err error) string {
		if err != nil {
			return "error: " + err.Error()
		}
		var ks []string
		for _, r := range recs {
			ks = append(ks, r.Key)
		}
		slices.Sort(ks)
		return fmt.Sprint(ks)
	}
	for _, c := range []struct {
		name string
		got  string
		want string
	}{
		{"Find family:f1", keys(st.Find(ctx, "refresh", "family:f1")), "[a b]"},
		{"Find sub:bob", keys(st.Find(ctx, "refresh", "sub:bob")), "[c]"},
		{"Find an unknown label", keys(st.Find(ctx, "refresh", "family:none")), "[]"},
		{"List refresh", keys(st.List(ctx, "refresh")), "[a b c]"},
		{"List revoked", keys(st.List(ctx, "revoked")), "[e]"},
		{"List an empty kind", keys(st.List(ctx, "launch")), "[]"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
}

// oneWon checks a race's results: exactly one nil, every other error the
// loser's (lost), none of another kind.
func oneWon(t *testing.T, errs []error, lost error, what string) {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, lost):
			t.Errorf("%s: %v", what, err)
		}
	}
	if won != 1 {
		t.Fatalf("%s: %d of %d racers won, want exactly 1", what, won, len(errs))
	}
}
