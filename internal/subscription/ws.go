package subscription

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/subscription/notify"
)

// Any process binds websockets, holder of the delivery lease or not: it
// reads the Subscription itself (a process standing by has no worker)
// and delivers to its own sockets (socketfeed.go).

// socketSpec is the current version of a Subscription a socket may bind
// to: live, not ended, on the websocket channel. The error says why not,
// in words the client may read.
func (m *Manager) socketSpec(ctx context.Context, id string) (*Spec, error) {
	unknown := fmt.Errorf("Subscription/%s is not a live subscription", id)
	v, err := m.cfg.Repo.Current(ctx, "Subscription", id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		if ctx.Err() == nil {
			m.log.Error("websocket bind: subscription not read", "subscription", id, "err", err)
		}
		return nil, errors.New("the server could not read the subscription")
	}
	if v.Deleted {
		return nil, unknown
	}
	spec, issues := m.parseSpec(v.Body, v.VersionID)
	spec.ID = id
	switch {
	case !spec.live():
		return nil, unknown
	case spec.Channel != WebSocket:
		return nil, fmt.Errorf("Subscription/%s does not use the websocket channel", id)
	case len(issues) > 0, !spec.End.IsZero() && !m.now().Before(spec.End):
		return nil, unknown
	}
	return spec, nil
}

// authorizeBind vets an R4 "bind ID": a live websocket subscription that
// the caller, by the bearer token of its upgrade request, may read.
func (m *Manager) authorizeBind(r *http.Request, id string) error {
	ctx := r.Context()
	if _, err := m.socketSpec(ctx, id); err != nil {
		return err
	}
	if m.authenticate != nil {
		g, err := m.authenticate(r)
		if err != nil {
			return errors.New("binding needs the bearer token of a client that may read the subscription (Authorization header of the upgrade request)")
		}
		ctx = access.NewContext(ctx, g)
	}
	if resp := m.svc.Read(ctx, "Subscription", id); resp.Status != http.StatusOK {
		return fmt.Errorf("Subscription/%s is not a live subscription", id)
	}
	prog, err := m.progress(ctx, id)
	if err != nil {
		return errors.New("the server could not read the subscription's state")
	}
	m.bindSocket(id, prog.Delivered)
	return nil
}

// wsHandshake is what a socket gets on "bind-with-token", per
// subscription: the handshake notification. Events follow from this
// process's feed, starting after the last one delivered anywhere when
// no socket of this process was bound yet.
func (m *Manager) wsHandshake(ctx context.Context, id string) ([][]byte, error) {
	spec, err := m.socketSpec(ctx, id)
	if err != nil {
		return nil, err
	}
	prog, err := m.progress(ctx, id)
	if err != nil {
		return nil, errors.New("the server could not read the subscription's state")
	}
	b, err := m.statusBundle(spec, notify.Handshake, prog.Events)
	if err != nil {
		return nil, err
	}
	m.bindSocket(id, prog.Delivered)
	return [][]byte{b}, nil
}
