package mongo

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// TestBindingTokens: a token saved by one process is redeemed once by
// either of two processes on the database, even when both try at the
// same moment; unknown and expired tokens are told apart.
func TestBindingTokens(t *testing.T) {
	a := openTest(t, Options{AllowNonAtomic: true})
	t.Cleanup(func() { a.Close() })
	b := openTest(t, Options{AllowNonAtomic: true, Database: a.db.Name()})
	t.Cleanup(func() { b.Close() })
	ctx := t.Context()
	now := time.Now()

	if _, err := b.RedeemBindingToken(ctx, "never-saved", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v, want ErrNotFound", err)
	}
	old := store.BindingToken{Key: "old", Subscriptions: []string{"s"}, Expires: now.Add(-time.Second)}
	if err := a.SaveBindingToken(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RedeemBindingToken(ctx, "old", now); !errors.Is(err, store.ErrTokenExpired) && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired token: %v, want ErrTokenExpired (or ErrNotFound once swept)", err)
	}

	for round := range 20 {
		key := "k" + string(rune('a'+round))
		want := store.BindingToken{Key: key, Subscriptions: []string{"s1", "s2"}, Expires: now.Add(time.Minute).Truncate(time.Microsecond)}
		if err := a.SaveBindingToken(ctx, want); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		got := make([]store.BindingToken, 2)
		for i, s := range []*Store{a, b} {
			wg.Go(func() { got[i], results[i] = s.RedeemBindingToken(ctx, key, now) })
		}
		wg.Wait()
		won := -1
		for i, err := range results {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: both processes redeemed the token", round)
				}
				won = i
			case !errors.Is(err, store.ErrTokenUsed):
				t.Fatalf("round %d: process %d: %v, want ErrTokenUsed", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither process redeemed the token: %v", round, results)
		}
		if g := got[won]; g.Key != key || len(g.Subscriptions) != 2 || g.Subscriptions[1] != "s2" || !g.Expires.Equal(want.Expires) {
			t.Fatalf("round %d: redeemed %+v, want %+v", round, g, want)
		}
		if _, err := a.RedeemBindingToken(ctx, key, now); !errors.Is(err, store.ErrTokenUsed) {
			t.Fatalf("round %d: third use: %v, want ErrTokenUsed", round, err)
		}
	}
}
