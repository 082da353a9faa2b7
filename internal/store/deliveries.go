package store

import (
	"context"
	"errors"
	"time"
)

// Deliveries is the durable state of subscription delivery, kept in the
// same database as the resources so that the commit log (Changes) and the
// notifications derived from it cannot drift apart. A subscription
// dispatcher reads the log after its cursor, matches each version, and
// records the step here: its cursor advance and the events it numbered
// commit together or not at all, so an event is never lost nor numbered
// twice. Delivery workers then read each subscription's events in number
// order and record how far they got.
type Deliveries interface {
	// LoadDispatch returns the dispatcher's cursor (0 before the first
	// step) and the state of every subscription it has seen.
	LoadDispatch(ctx context.Context) (cursor int64, subs []SubscriptionState, err error)
	// Dispatch records one step atomically: the subscriptions it applied
	// (inserted or updated by ID; Events and Delivered are ignored), then
	// its events in order, each numbered one past its subscription's last
	// (the subscription must be known, from this step or an earlier one),
	// then the cursor. The cursor never moves back: a step whose cursor is
	// below the stored one fails and writes nothing.
	Dispatch(ctx context.Context, d Dispatch) error
	// Progress returns one subscription's state, or ErrNotFound.
	Progress(ctx context.Context, sub string) (SubscriptionState, error)
	// Events returns a subscription's events numbered from..to (both
	// inclusive), in number order, at most limit, each with the version it
	// is about.
	Events(ctx context.Context, sub string, from, to int64, limit int) ([]QueuedEvent, error)
	// MarkDelivered records that the subscription's events up to number
	// were delivered; a number at or below the recorded one changes
	// nothing.
	MarkDelivered(ctx context.Context, sub string, number int64) error
	// MarkSocketDelivered records that one server process (named by
	// process, stable for its lifetime) sent the subscription's events up
	// to number to the websockets bound at it. Every process delivers to
	// its own sockets, so unlike MarkDelivered it is never fenced by a
	// delivery role; the delivered number Progress and LoadDispatch
	// report is the highest of every record. A number at or below the
	// process's recorded one changes nothing.
	MarkSocketDelivered(ctx context.Context, sub, process string, number int64) error
	// SaveOwner records who wrote a version of a subscription (see Owner).
	SaveOwner(ctx context.Context, sub string, o Owner) error
	// Owners returns a subscription's owner records, newest version first.
	Owners(ctx context.Context, sub string) ([]Owner, error)
}

// SubscriptionState is what the dispatcher and the delivery workers
// record of one Subscription.
type SubscriptionState struct {
	ID string
	// Version is the Subscription version the dispatcher last applied.
	Version int64
	// Live says whether changes are matched against it (status
	// requested, active or error; not off, not deleted).
	Live bool
	// Events is the number of the subscription's last event (the
	// events-since-subscription-start count); Delivered the number of the
	// last one delivered.
	Events, Delivered int64
}

// Dispatch is one durable step of the dispatcher.
type Dispatch struct {
	// Cursor is the seq of the last change the step covers.
	Cursor        int64
	Subscriptions []SubscriptionState
	Events        []Event
}

// Event is one notification-worthy change for one subscription.
type Event struct {
	Subscription string
	// Seq names the version the event is about (Committed.Seq).
	Seq int64
}

// QueuedEvent is a numbered event read back with its version.
type QueuedEvent struct {
	Number int64
	Seq    int64
	Version
}

// Owner records whose authority a subscription version was written with:
// notifications carry only what that grant may read. The record is made
// before the version is committed (the write may still fail), so Digest,
// a hash of the version's body, tells whether the version committed is
// the one the record is about.
type Owner struct {
	Version int64
	Digest  []byte
	// Grant is the owner's grant, encoded by the caller.
	Grant []byte
}

// BindingTokens keeps websocket binding tokens ($get-ws-binding-token)
// where every server process sharing the store finds them: a token
// minted by one process binds a socket at any, once. A store used by
// one process only need not have them (the tokens stay in memory).
type BindingTokens interface {
	// SaveBindingToken records a new token (and may forget expired ones).
	SaveBindingToken(ctx context.Context, t BindingToken) error
	// RedeemBindingToken uses the token keyed key once, across every
	// process: the first call gets it, later ones ErrTokenUsed. A token
	// not (or no longer) recorded is ErrNotFound; one expired at now is
	// ErrTokenExpired, and is not used up.
	RedeemBindingToken(ctx context.Context, key string, now time.Time) (BindingToken, error)
}

// BindingToken is a websocket binding token as stored. Key identifies it
// (the caller's hash of the token: the token itself is not stored).
type BindingToken struct {
	Key           string
	Subscriptions []string
	Expires       time.Time
}

var (
	// ErrTokenUsed: the binding token was redeemed before.
	ErrTokenUsed = errors.New("store: binding token already used")
	// ErrTokenExpired: the binding token has expired.
	ErrTokenExpired = errors.New("store: binding token expired")
)
