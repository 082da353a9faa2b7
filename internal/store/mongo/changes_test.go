package mongo

import (
	"errors"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// claimOnly plays a writer that has claimed the next version of a
// resource (step 3) and not written it yet: in flight, or crashed.
func claimOnly(t *testing.T, s *Store, c store.Change) versionDoc {
	t.Helper()
	p, err := prepare(c)
	if err != nil {
		t.Fatal(err)
	}
	claim, taken, err := s.claimVersion(t.Context(), p.key, func(seq int64) versionDoc { return p.versionDoc(seq, seq, true) })
	if err != nil || taken != nil {
		t.Fatalf("claim: %v, taken %v", err, taken)
	}
	return claim
}

func seqsOf(cs []store.Committed) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Seq
	}
	return out
}

// TestChangesStopAtPendingClaim: a commit in flight holds back the log
// after it, so a reader never passes a sequence number that could still
// become visible; once the claim is abandoned, the reader settles it.
func TestChangesStopAtPendingClaim(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := t.Context()
	mustCommit(t, s, change("Patient", "a", 1, `{}`))
	pend := claimOnly(t, s, change("Patient", "b", 1, `{"b":1}`))
	mustCommit(t, s, change("Patient", "c", 1, `{}`)) // committed after the claim: a higher seq

	got, err := s.Changes(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("Changes with a claim in flight = %v (seqs %v); want only Patient/a, before the claim", got, seqsOf(got))
	}
	// Abandoned: the reader finishes the claim and goes on.
	s.abandonAfter = 0
	got, err = s.Changes(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if !equalStrings(ids, []string{"a", "b", "c"}) || got[1].Seq != pend.Seq {
		t.Fatalf("Changes after the claim was abandoned = %v (seqs %v); want a, b (seq %d), c", ids, seqsOf(got), pend.Seq)
	}
	if v, err := s.Current(ctx, "Patient", "b"); err != nil || string(v.Body) != `{"b":1}` {
		t.Fatalf("the settled claim's resource: %+v, %v", v, err)
	}
}

// TestChangesWithdrawnClaim: the claims of a failed transaction are
// withdrawn; the gap they leave is passed.
func TestChangesWithdrawnClaim(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := t.Context()
	mustCommit(t, s, change("Patient", "a", 1, `{}`))
	claim := claimOnly(t, s, change("Patient", "b", 1, `{}`))
	mustCommit(t, s, change("Patient", "c", 1, `{}`))
	if got, _ := s.Changes(ctx, 0, 10); len(got) != 1 {
		t.Fatalf("Changes with a claim in flight: %d versions, want 1", len(got))
	}
	if _, err := s.ver.DeleteOne(ctx, map[string]string{"_id": claim.Key}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Changes(ctx, 0, 10)
	if err != nil || len(got) != 2 || got[1].ID != "c" {
		t.Fatalf("Changes after the claim was withdrawn = %v, %v; want a and c", got, err)
	}
	if _, err := s.Current(ctx, "Patient", "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Patient/b: %v", err)
	}
}

// TestSequenceAcrossStores: two Stores on one database (two server
// processes) take turns on sequence numbers without a gap or a repeat,
// and each one's log shows the other's commits.
func TestSequenceAcrossStores(t *testing.T) {
	a := openTest(t, Options{})
	defer a.Close()
	b, err := Open(t.Context(), serverURI, Options{Database: a.db.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	for i, s := range []*Store{a, b, a, a, b, b, a} {
		mustCommit(t, s, change("Patient", string(rune('a'+i)), 1, `{}`))
	}
	for _, s := range []*Store{a, b} {
		got, err := s.Changes(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if seqs := seqsOf(got); len(seqs) != 7 || seqs[0] != 1 || seqs[6] != 7 {
			t.Fatalf("Changes = seqs %v, want 1..7", seqs)
		}
	}
}

// TestDispatchRace: two dispatchers (processes) on one database: the one
// that records a step second is refused, reloads, and numbers on from the
// first's events.
func TestDispatchRace(t *testing.T) {
	a := openTest(t, Options{})
	defer a.Close()
	b, err := Open(t.Context(), serverURI, Options{Database: a.db.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	mustCommit(t, a, change("Patient", "p", 1, `{}`))
	for _, s := range []*Store{a, b} {
		if _, _, err := s.LoadDispatch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step := store.Dispatch{Cursor: 1, Subscriptions: []store.SubscriptionState{{ID: "s", Version: 1, Live: true}},
		Events: []store.Event{{Subscription: "s", Seq: 1}}}
	if err := a.Dispatch(ctx, step); err != nil {
		t.Fatal(err)
	}
	if err := b.Dispatch(ctx, step); !errors.Is(err, ErrDispatchRace) {
		t.Fatalf("the second dispatcher's step = %v, want ErrDispatchRace", err)
	}
	cursor, subs, err := b.LoadDispatch(ctx)
	if err != nil || cursor != 1 || len(subs) != 1 || subs[0].Events != 1 {
		t.Fatalf("reload = %d, %+v, %v; want cursor 1 and one event", cursor, subs, err)
	}
	mustCommit(t, b, change("Patient", "p", 2, `{}`))
	if err := b.Dispatch(ctx, store.Dispatch{Cursor: 2, Events: []store.Event{{Subscription: "s", Seq: 2}}}); err != nil {
		t.Fatal(err)
	}
	evs, err := a.Events(ctx, "s", 1, 10, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq != 1 || evs[1].Number != 2 || evs[1].Seq != 2 {
		t.Fatalf("events = %+v, %v; want 1 (seq 1) and 2 (seq 2)", evs, err)
	}
}

// TestDispatchStepRedone: a step recorded but not applied (a crash in
// between) is applied by the next load, in any process.
func TestDispatchStepRedone(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := t.Context()
	mustCommit(t, s, change("Patient", "p", 1, `{}`))
	st := stepDoc{N: 1, Cursor: 1, Subs: []stepSub{{ID: "s", V: 1, Live: true}}, Events: []stepEvent{{Sub: "s", N: 1, Seq: 1}}}
	if _, err := s.steps().InsertOne(ctx, st); err != nil {
		t.Fatal(err)
	}
	cursor, subs, err := s.LoadDispatch(ctx)
	if err != nil || cursor != 1 || len(subs) != 1 || subs[0].Events != 1 {
		t.Fatalf("LoadDispatch = %d, %+v, %v; want the step applied", cursor, subs, err)
	}
	if evs, err := s.Events(ctx, "s", 1, 1, 10); err != nil || len(evs) != 1 || evs[0].ID != "p" {
		t.Fatalf("Events = %+v, %v", evs, err)
	}
}
