package subscription

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/subscription/notify"
)

// statusBundle is a notification without events: a handshake or a
// heartbeat.
func (m *Manager) statusBundle(spec *Spec, kind notify.Kind, events int64) ([]byte, error) {
	st := notify.Status{Subscription: "Subscription/" + spec.ID, Topic: spec.topicURL(), Status: spec.Status, Kind: kind, EventsSinceStart: events}
	return notify.Bundle(st, spec.Content, m.cfg.BaseURL, m.now())
}

// eventBundle renders queued events as a notification Bundle of kind
// with the given content. Each focus is shown only to the reader whose
// grant is in ctx (none: authorization is off): for a delivery the
// subscription's owner (ownerContext), for $events the caller. An event
// the reader may not see keeps its number and time and loses its focus;
// a full resource the reader may not read (or that is deleted) is left
// out, and that entry is id-only.
func (m *Manager) eventBundle(ctx context.Context, spec *Spec, evs []store.QueuedEvent, total int64, kind notify.Kind, content string) ([]byte, error) {
	st := notify.Status{Subscription: "Subscription/" + spec.ID, Topic: spec.topicURL(), Status: spec.Status, Kind: kind, EventsSinceStart: total}
	for i := range evs {
		ev := &evs[i]
		e := notify.Event{Number: ev.Number, Timestamp: ev.LastUpdated}
		if content != notify.Empty {
			ok, err := m.svc.MayRead(ctx, &ev.Version)
			if err != nil {
				return nil, err
			}
			if ok {
				e.Focus = ev.Type + "/" + ev.ID
				e.Method = method(&ev.Version, ev.VersionID == 1)
			}
			if ok && content == notify.FullResource && !ev.Deleted {
				if r := m.svc.VRead(ctx, ev.Type, ev.ID, strconv.FormatInt(ev.VersionID, 10)); r.Status == http.StatusOK && r.ContentType == "" {
					e.Resource = r.Body
				}
			}
		}
		st.Events = append(st.Events, e)
	}
	return notify.Bundle(st, content, m.cfg.BaseURL, m.now())
}

// ownerContext is ctx carrying the grant of the subscription's owner, for
// the reads of a delivery. known is false when authorization is on and no
// owner is on record: the delivery then shows nothing (fail closed).
func (m *Manager) ownerContext(ctx context.Context, spec *Spec) (_ context.Context, known bool, _ error) {
	owner, err := m.ownerOf(ctx, spec.ID, spec.Version)
	if errors.Is(err, errNoOwner) {
		return ctx, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return asOwner(ctx, owner), true, nil
}
