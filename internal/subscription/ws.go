package subscription

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/subscription/notify"
)

// bindNudge is how long after a bind the worker looks for the new socket
// (the hub binds after its hooks return).
const bindNudge = 20 * time.Millisecond

// authorizeBind vets an R4 "bind ID": a live websocket subscription that
// the caller, by the bearer token of its upgrade request, may read.
func (m *Manager) authorizeBind(r *http.Request, id string) error {
	w := m.workerOf(id)
	unknown := fmt.Errorf("Subscription/%s is not a live subscription", id)
	if w == nil {
		return unknown
	}
	if spec, _ := w.current(); spec.Channel != WebSocket {
		return fmt.Errorf("Subscription/%s does not use the websocket channel", id)
	}
	ctx := r.Context()
	if m.authenticate != nil {
		g, err := m.authenticate(r)
		if err != nil {
			return errors.New("binding needs the bearer token of a client that may read the subscription (Authorization header of the upgrade request)")
		}
		ctx = access.NewContext(ctx, g)
	}
	if resp := m.svc.Read(ctx, "Subscription", id); resp.Status != http.StatusOK {
		return unknown
	}
	time.AfterFunc(bindNudge, w.poke)
	return nil
}

// wsHandshake is what a socket gets on "bind-with-token", per
// subscription: the handshake notification. Queued events follow from
// the worker.
func (m *Manager) wsHandshake(ctx context.Context, id string) ([][]byte, error) {
	w := m.workerOf(id)
	if w == nil {
		return nil, fmt.Errorf("Subscription/%s is not a live subscription", id)
	}
	spec, _ := w.current()
	if spec.Channel != WebSocket {
		return nil, fmt.Errorf("Subscription/%s does not use the websocket channel", id)
	}
	prog, err := m.progress(ctx, id)
	if err != nil {
		return nil, errors.New("the server could not read the subscription's state")
	}
	b, err := m.statusBundle(spec, notify.Handshake, prog.Events)
	if err != nil {
		return nil, err
	}
	time.AfterFunc(bindNudge, w.poke)
	return [][]byte{b}, nil
}
