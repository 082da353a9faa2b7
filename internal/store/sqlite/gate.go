package sqlite

import (
	"errors"
	"sync"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("sqlite: store closed")

// gate admits calls until it is shut, and lets the closer wait for the calls
// already admitted, so Close never pulls a connection from under a commit.
type gate struct {
	mu       sync.RWMutex
	shut     bool
	inflight sync.WaitGroup
}

func (g *gate) enter() error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.shut {
		return ErrClosed
	}
	// Add happens under the read lock, so it is ordered before close's Wait.
	g.inflight.Add(1)
	return nil
}

func (g *gate) leave() { g.inflight.Done() }

// close shuts the gate and waits for admitted calls; it reports whether this
// call was the one that shut it.
func (g *gate) close() bool {
	g.mu.Lock()
	first := !g.shut
	g.shut = true
	g.mu.Unlock()
	g.inflight.Wait()
	return first
}
