package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/telederm/telederm/internal/store"
)

// testCanceled checks that a canceled context stops every call, and that a
// canceled commit writes nothing.
func testCanceled(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	commit(t, r, write("Patient", "p", 1, minute(1)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := map[string]func() error{
		"Commit": func() error {
			return r.Commit(ctx, []store.Change{write("Patient", "q", 1, minute(2))})
		},
		"Current": func() error { _, err := r.Current(ctx, "Patient", "p"); return err },
		"Version": func() error { _, err := r.Version(ctx, "Patient", "p", 1); return err },
		"History": func() error { _, err := r.History(ctx, store.HistoryQuery{Count: 5}); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with canceled context = %v, want context.Canceled", name, err)
		}
	}
	if _, err := r.Current(t.Context(), "Patient", "q"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Current(Patient/q) after canceled commit = %v, want ErrNotFound", err)
	}
}

func testClose(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	commit(t, r, write("Patient", "p", 1, minute(1)))
	if err := r.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Ping": func() error { return r.Ping(t.Context()) },
		"Commit": func() error {
			return r.Commit(t.Context(), []store.Change{write("Patient", "q", 1, minute(2))})
		},
		"Current": func() error { _, err := r.Current(t.Context(), "Patient", "p"); return err },
		"Version": func() error { _, err := r.Version(t.Context(), "Patient", "p", 1); return err },
		"History": func() error { _, err := r.History(t.Context(), store.HistoryQuery{Count: 5}); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s after Close = nil error, want one", name)
		}
	}
}

// testCloseWhileCommitting closes the repository under writers and readers:
// every call either completes or fails cleanly, and Close succeeds.
func testCloseWhileCommitting(t *testing.T, open func(*testing.T) store.Repository) {
	r := open(t)
	commit(t, r, write("Patient", "p", 1, minute(1)))
	var wg sync.WaitGroup
	started := make(chan struct{}, 2*writers)
	for w := range writers {
		wg.Go(func() {
			for i := 1; ; i++ {
				c := write("Observation", fmt.Sprintf("o%d-%d", w, i), 1, minute(i))
				err := r.Commit(context.Background(), []store.Change{c})
				if i == 1 {
					started <- struct{}{}
				}
				if err != nil {
					return
				}
			}
		})
		wg.Go(func() {
			for i := 1; ; i++ {
				_, err := r.Current(context.Background(), "Patient", "p")
				if i == 1 {
					started <- struct{}{}
				}
				if err != nil {
					return
				}
			}
		})
	}
	for range 2 * writers {
		<-started
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close under load: %v", err)
	}
	wg.Wait()
}
