// Package subscription runs FHIR Subscriptions: R4 criteria-based ones and
// the topic-based ones of the Subscriptions R5 Backport IG (STU 1.1) on R4.
//
// The parts, in the order a change travels:
//
//   - validate.go, spec.go, criteria.go, topics.go: a Subscription is
//     vetted before it is written (rest.WriteChecker): criteria and filters
//     are searches the registry knows and one changed resource can decide,
//     the topic is one served here, the channel is rest-hook or websocket,
//     the endpoint passes the egress policy, and a client sets only
//     requested or off. With authorization on, the writer's grant is
//     recorded as the version's owner (owner.go), outside the resource.
//   - dispatch.go, change.go, index.go: the dispatcher reads the store's
//     commit log (store.Repository.Changes: resource_version, written in
//     the same transaction as each change, is the outbox) after a durable
//     cursor, matches each version against the live subscriptions as they
//     stood at that point of the log, and records each step's numbered
//     events and its cursor in one transaction (store.Deliveries.Dispatch).
//     The matching index files each subscription under the value of its
//     least-shared equality clause, so a change costs a lookup per index
//     entry of its own, not a test per subscription.
//   - worker.go, deliver.go, render.go, status.go: one worker per live
//     subscription delivers its events in number order, at least once
//     (marked delivered only after a 2xx; websocket events go out from
//     socketfeed.go, marked once a socket took them), with handshake, heartbeats, max-count, timeout, and retries
//     with exponential back-off and jitter. The worker writes the
//     subscription's status (active, error with its text, off at end) as
//     new versions through the REST layer.
//   - ws.go, socketfeed.go, tokens.go, ops.go: the websocket channel's
//     hooks (wsock.Hub), each process's delivery to the sockets bound at
//     it (whether or not it runs the workers), the binding tokens (in the
//     store when several processes share it), and the operations
//     $status, $events and $get-ws-binding-token.
//
// What a subscriber may see: with authorization on, a change that the
// subscription's owner may not read (by the rest layer's read rules:
// scopes, patient compartment, granular constraints) is not an event for
// that subscription at all, so neither its content, nor its id, nor the
// fact that it happened reaches the endpoint, and its events stay numbered
// without gaps. Full resources are read under the owner's grant; one that
// cannot be read then (or is deleted) is left out and its entry is
// id-only. $events shows each focus as far as the caller's own scopes
// reach; an event the caller may not see keeps its number and time only.
// With authorization off nothing is restricted.
package subscription
