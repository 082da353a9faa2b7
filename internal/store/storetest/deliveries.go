package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// Backend is a store with subscription delivery state.
type Backend interface {
	store.Repository
	store.Deliveries
}

// RunDeliveriesTests runs the behavioural tests of store.Deliveries.
// newBackend must return a new, empty backend on every call.
func RunDeliveriesTests(t *testing.T, newBackend func(t *testing.T) Backend) {
	open := func(t *testing.T) Backend {
		t.Helper()
		b := newBackend(t)
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	tests := []struct {
		name string
		run  func(*testing.T, Backend)
	}{
		{"Numbering", testDispatchNumbering},
		{"CursorNeverMovesBack", testDispatchCursor},
		{"UnknownSubscription", testDispatchUnknown},
		{"Delivered", testMarkDelivered},
		{"DeliveredWhileDispatching", testDeliveredWhileDispatching},
		{"SocketDelivered", testSocketDelivered},
		{"Owners", testOwners},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, open(t))
		})
	}
}

// changesOf commits the changes and returns them as the log shows them.
func changesOf(t *testing.T, b Backend, cs ...store.Change) []store.Committed {
	t.Helper()
	before, err := b.Changes(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var after int64
	if len(before) > 0 {
		after = before[len(before)-1].Seq
	}
	for _, c := range cs {
		commit(t, b, c)
	}
	got, err := b.Changes(t.Context(), after, 1000)
	if err != nil || len(got) != len(cs) {
		t.Fatalf("Changes: %d, %v; want %d", len(got), err, len(cs))
	}
	return got
}

// testDispatchNumbering: events are numbered per subscription from 1 with
// no gap, across steps, and read back in order with their versions.
func testDispatchNumbering(t *testing.T, b Backend) {
	ctx := t.Context()
	cursor, subs, err := b.LoadDispatch(ctx)
	if err != nil || cursor != 0 || len(subs) != 0 {
		t.Fatalf("LoadDispatch on an empty store = %d, %v, %v", cursor, subs, err)
	}
	cs := changesOf(t, b, write("Patient", "p", 1, minute(1)), write("Patient", "p", 2, minute(2)), write("Patient", "q", 1, minute(3)))
	err = b.Dispatch(ctx, store.Dispatch{
		Cursor:        cs[1].Seq,
		Subscriptions: []store.SubscriptionState{{ID: "s1", Version: 1, Live: true}, {ID: "s2", Version: 3, Live: true}},
		Events:        []store.Event{{Subscription: "s1", Seq: cs[0].Seq}, {Subscription: "s2", Seq: cs[0].Seq}, {Subscription: "s1", Seq: cs[1].Seq}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Dispatch(ctx, store.Dispatch{
		Cursor:        cs[2].Seq,
		Subscriptions: []store.SubscriptionState{{ID: "s2", Version: 4, Live: false}},
		Events:        []store.Event{{Subscription: "s1", Seq: cs[2].Seq}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cursor, subs, err = b.LoadDispatch(ctx)
	if err != nil || cursor != cs[2].Seq {
		t.Fatalf("LoadDispatch cursor = %d, %v; want %d", cursor, err, cs[2].Seq)
	}
	byID := map[string]store.SubscriptionState{}
	for _, s := range subs {
		byID[s.ID] = s
	}
	if got := byID["s1"]; got != (store.SubscriptionState{ID: "s1", Version: 1, Live: true, Events: 3}) {
		t.Errorf("s1 = %+v", got)
	}
	if got := byID["s2"]; got != (store.SubscriptionState{ID: "s2", Version: 4, Live: false, Events: 1}) {
		t.Errorf("s2 = %+v", got)
	}
	evs, err := b.Events(ctx, "s1", 1, 100, 100)
	if err != nil || len(evs) != 3 {
		t.Fatalf("Events(s1) = %d, %v", len(evs), err)
	}
	for i, ev := range evs {
		want := cs[i]
		if ev.Number != int64(i+1) || ev.Seq != want.Seq || ev.ID != want.ID || ev.VersionID != want.VersionID || !bytes.Equal(ev.Body, want.Body) {
			t.Errorf("event %d = %d seq %d %s/%s v%d, want %d seq %d %s/%s v%d", i, ev.Number, ev.Seq, ev.Type, ev.ID, ev.VersionID,
				i+1, want.Seq, want.Type, want.ID, want.VersionID)
		}
	}
	if evs, err := b.Events(ctx, "s1", 2, 2, 100); err != nil || len(evs) != 1 || evs[0].Number != 2 {
		t.Errorf("Events(s1, 2..2) = %+v, %v", evs, err)
	}
	if evs, err := b.Events(ctx, "s1", 1, 100, 2); err != nil || len(evs) != 2 {
		t.Errorf("Events(s1, limit 2) = %d, %v", len(evs), err)
	}
	if p, err := b.Progress(ctx, "s1"); err != nil || p.Events != 3 {
		t.Errorf("Progress(s1) = %+v, %v", p, err)
	}
	if _, err := b.Progress(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Progress(nope) = %v, want ErrNotFound", err)
	}
}

func testDispatchCursor(t *testing.T, b Backend) {
	ctx := t.Context()
	if err := b.Dispatch(ctx, store.Dispatch{Cursor: 10}); err != nil {
		t.Fatal(err)
	}
	err := b.Dispatch(ctx, store.Dispatch{Cursor: 9, Subscriptions: []store.SubscriptionState{{ID: "s", Version: 1, Live: true}}})
	if err == nil {
		t.Fatal("a step behind the cursor was accepted")
	}
	cursor, subs, _ := b.LoadDispatch(ctx)
	if cursor != 10 || len(subs) != 0 {
		t.Fatalf("after a refused step: cursor %d, %d subscriptions; want 10 and none", cursor, len(subs))
	}
}

// An event for a subscription no step introduced fails the whole step.
func testDispatchUnknown(t *testing.T, b Backend) {
	ctx := t.Context()
	cs := changesOf(t, b, write("Patient", "p", 1, minute(1)))
	err := b.Dispatch(ctx, store.Dispatch{Cursor: cs[0].Seq,
		Subscriptions: []store.SubscriptionState{{ID: "known", Version: 1, Live: true}},
		Events:        []store.Event{{Subscription: "known", Seq: cs[0].Seq}, {Subscription: "ghost", Seq: cs[0].Seq}}})
	if err == nil {
		t.Fatal("an event of an unknown subscription was accepted")
	}
	cursor, subs, _ := b.LoadDispatch(ctx)
	if cursor != 0 || len(subs) != 0 {
		t.Fatalf("the failed step left cursor %d and %d subscriptions", cursor, len(subs))
	}
}

func testMarkDelivered(t *testing.T, b Backend) {
	ctx := t.Context()
	cs := changesOf(t, b, write("Patient", "p", 1, minute(1)))
	evs := []store.Event{{Subscription: "s", Seq: cs[0].Seq}, {Subscription: "s", Seq: cs[0].Seq}, {Subscription: "s", Seq: cs[0].Seq}}
	if err := b.Dispatch(ctx, store.Dispatch{Cursor: cs[0].Seq, Subscriptions: []store.SubscriptionState{{ID: "s", Version: 1, Live: true}}, Events: evs}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{2, 1, 2} { // never lowered
		if err := b.MarkDelivered(ctx, "s", n); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := b.Progress(ctx, "s"); p.Delivered != 2 || p.Events != 3 {
		t.Fatalf("progress %+v, want 2 of 3 delivered", p)
	}
}

// testSocketDelivered: websocket deliveries recorded by several
// processes and the worker's raise one delivered number, the highest of
// them, seen by Progress and LoadDispatch, and never lowered.
func testSocketDelivered(t *testing.T, b Backend) {
	ctx := t.Context()
	cs := changesOf(t, b, write("Patient", "p", 1, minute(1)))
	var evs []store.Event
	for range 4 {
		evs = append(evs, store.Event{Subscription: "s", Seq: cs[0].Seq})
	}
	subs := []store.SubscriptionState{{ID: "s", Version: 1, Live: true}, {ID: "t", Version: 1, Live: true}}
	if err := b.Dispatch(ctx, store.Dispatch{Cursor: cs[0].Seq, Subscriptions: subs, Events: evs}); err != nil {
		t.Fatal(err)
	}
	delivered := func() (progress, loaded int64) {
		t.Helper()
		p, err := b.Progress(ctx, "s")
		if err != nil {
			t.Fatal(err)
		}
		_, states, err := b.LoadDispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if st.ID == "s" {
				loaded = st.Delivered
			} else if st.Delivered != 0 {
				t.Errorf("subscription %s: delivered %d, want 0 (the marks were for s)", st.ID, st.Delivered)
			}
		}
		return p.Delivered, loaded
	}
	steps := []struct {
		mark func() error
		want int64
	}{
		{func() error { return b.MarkSocketDelivered(ctx, "s", "process-a", 2) }, 2},
		{func() error { return b.MarkSocketDelivered(ctx, "s", "process-b", 1) }, 2},
		{func() error { return b.MarkSocketDelivered(ctx, "s", "process-a", 1) }, 2}, // never lowered
		{func() error { return b.MarkDelivered(ctx, "s", 1) }, 2},
		{func() error { return b.MarkSocketDelivered(ctx, "s", "process-b", 3) }, 3},
		{func() error { return b.MarkDelivered(ctx, "s", 4) }, 4},
	}
	for i, st := range steps {
		if err := st.mark(); err != nil {
			t.Fatalf("mark %d: %v", i, err)
		}
		if p, l := delivered(); p != st.want || l != st.want {
			t.Fatalf("after mark %d: Progress says %d delivered, LoadDispatch %d; want %d", i, p, l, st.want)
		}
	}
}

// testDeliveredWhileDispatching: a worker's delivery mark and the
// dispatcher's next event land at the same moment, round after round;
// neither undoes the other (on FerretDB, whose updates read a document
// and write it back whole, one document written by both lost marks, and
// an event went out twice).
func testDeliveredWhileDispatching(t *testing.T, b Backend) {
	ctx := t.Context()
	cs := changesOf(t, b, write("Patient", "p", 1, minute(1)))
	ev := []store.Event{{Subscription: "s", Seq: cs[0].Seq}}
	if err := b.Dispatch(ctx, store.Dispatch{Cursor: cs[0].Seq, Subscriptions: []store.SubscriptionState{{ID: "s", Version: 1, Live: true}}, Events: ev}); err != nil {
		t.Fatal(err)
	}
	const rounds = 100
	for n := int64(1); n <= rounds; n++ {
		var wg sync.WaitGroup
		var dispatchErr, markErr error
		wg.Go(func() { dispatchErr = b.Dispatch(ctx, store.Dispatch{Cursor: cs[0].Seq, Events: ev}) })
		wg.Go(func() { markErr = b.MarkDelivered(ctx, "s", n) })
		wg.Wait()
		if dispatchErr != nil || markErr != nil {
			t.Fatalf("round %d: dispatch %v, mark %v", n, dispatchErr, markErr)
		}
		if p, err := b.Progress(ctx, "s"); err != nil || p.Delivered != n || p.Events != n+1 {
			t.Fatalf("round %d: progress %+v, %v; want %d of %d delivered", n, p, err, n, n+1)
		}
	}
	_, subs, err := b.LoadDispatch(ctx)
	if err != nil || len(subs) != 1 || subs[0].Delivered != rounds || subs[0].Events != rounds+1 {
		t.Fatalf("LoadDispatch = %+v, %v; want %d of %d delivered", subs, err, rounds, rounds+1)
	}
}

func testOwners(t *testing.T, b Backend) {
	ctx := t.Context()
	for _, o := range []store.Owner{{Version: 1, Digest: []byte{1}, Grant: []byte(`a`)}, {Version: 3, Digest: []byte{3}, Grant: []byte(`c`)}, {Version: 1, Digest: []byte{9}, Grant: []byte(`x`)}} {
		if err := b.SaveOwner(ctx, "s", o); err != nil {
			t.Fatal(err)
		}
	}
	os, err := b.Owners(ctx, "s")
	if err != nil || len(os) != 3 || os[0].Version != 3 || string(os[0].Grant) != "c" {
		t.Fatalf("Owners = %+v, %v; want three, version 3 first", os, err)
	}
	if os, _ := b.Owners(ctx, "other"); len(os) != 0 {
		t.Fatalf("Owners(other) = %+v", os)
	}
}
