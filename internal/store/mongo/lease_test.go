package mongo

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

func openLeased(t *testing.T, db string, ttl time.Duration) *Leased {
	t.Helper()
	s, err := Open(t.Context(), serverURI, Options{Database: db})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.WithDeliveryLease(t.Context(), LeaseOptions{TTL: ttl, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func waitHolding(t *testing.T, l *Leased, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !l.Holding() {
		if time.Now().After(deadline) {
			t.Fatalf("the lease was not taken over within %v", within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDeliveryLease: one process of two holds the role; the other reads
// no changes and may not record deliveries; it takes over when the holder
// closes (at once) or stops renewing (after the TTL).
func TestDeliveryLease(t *testing.T) {
	s := openTest(t, Options{})
	db := s.db.Name()
	mustCommit(t, s, change("Patient", "p", 1, `{}`))
	s.Close()
	const ttl = 600 * time.Millisecond
	a := openLeased(t, db, ttl)
	b := openLeased(t, db, ttl)
	defer b.Close()
	if !a.Holding() || b.Holding() {
		t.Fatalf("holding: a %v, b %v; want a only", a.Holding(), b.Holding())
	}
	ctx := t.Context()
	for name, l := range map[string]*Leased{"a": a, "b": b} {
		if _, _, err := l.LoadDispatch(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := l.Changes(ctx, 0, 10)
		if want := map[string]int{"a": 1, "b": 0}[name]; err != nil || len(got) != want {
			t.Errorf("%s.Changes = %d, %v; want %d", name, len(got), err, want)
		}
	}
	if err := b.MarkDelivered(ctx, "s", 1); err == nil {
		t.Error("a process standing by recorded a delivery")
	}
	// The holder closes: the other takes over at its next renewal tick.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitHolding(t, b, ttl)
	if _, err := b.Changes(ctx, 0, 10); err == nil {
		t.Fatal("Changes after taking over did not ask for a reload")
	}
	if _, _, err := b.LoadDispatch(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Changes(ctx, 0, 10); err != nil || len(got) != 1 {
		t.Fatalf("Changes after the reload = %d, %v; want 1", len(got), err)
	}

	// A holder that stops renewing (a crash) loses the role after the TTL.
	c := openLeased(t, db, ttl)
	defer c.Close()
	b.stop()
	<-b.done
	b.stop = nil
	waitHolding(t, c, 3*ttl)
	if b.Holding() {
		t.Error("the crashed holder still counts itself the holder")
	}
}
