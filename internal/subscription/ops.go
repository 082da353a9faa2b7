package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/subscription/notify"
)

// OperationDefinitions of the backport IG.
const (
	opdefStatus  = "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status"
	opdefEvents  = "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events"
	opdefWSToken = "http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-get-ws-binding-token"
)

// maxReplay is the most events one $events answer carries; a client
// pages with eventsSinceNumber.
const maxReplay = 100

// maxStatusList is the most subscriptions a type-level $status without
// ids lists.
const maxStatusList = 1000

// Operations are $status, $events and $get-ws-binding-token on
// Subscription (rest.Config.Operations).
func (m *Manager) Operations() []rest.Operation {
	return []rest.Operation{
		{Name: "status", Type: "Subscription", Definition: opdefStatus, TypeLevel: true, InstanceLevel: true, Idempotent: true, Run: m.opStatus},
		{Name: "events", Type: "Subscription", Definition: opdefEvents, InstanceLevel: true, Idempotent: true, Run: m.opEvents},
		{Name: "get-ws-binding-token", Type: "Subscription", Definition: opdefWSToken, TypeLevel: true, InstanceLevel: true, Idempotent: true, Run: m.opWSToken},
	}
}

// opStatus answers $status: a searchset Bundle with one
// SubscriptionStatus Parameters (type query-status) per subscription the
// caller may read: the one named, or at type level those named by id (or
// all), narrowed by status.
func (m *Manager) opStatus(ctx context.Context, id string, params url.Values, body []byte) rest.Response {
	args, r, ok := opArgs(params, body)
	if !ok {
		return r
	}
	var subs []readSub
	if id != "" {
		s, r, ok := m.readSubscription(ctx, id)
		if !ok {
			return r
		}
		subs = append(subs, s)
	} else {
		var r rest.Response
		if subs, r, ok = m.listSubscriptions(ctx, splitList(args["id"]), splitList(args["status"])); !ok {
			return r
		}
	}
	b := searchset{ResourceType: "Bundle", Type: "searchset", Timestamp: instant(m.now()), Entry: []searchEntry{}}
	var touched []string
	for _, s := range subs {
		prog, err := m.progress(ctx, s.spec.ID)
		if err != nil {
			return m.opFailed(ctx, "$status", err)
		}
		st := notify.Status{Subscription: "Subscription/" + s.spec.ID, Topic: s.spec.topicURL(), Status: s.spec.Status,
			Kind: notify.QueryStatus, EventsSinceStart: prog.Events}
		if s.spec.Error != "" {
			st.Errors = append(st.Errors, s.spec.Error)
		}
		if w := m.workerOf(s.spec.ID); w != nil {
			if e := w.failing(); e != "" && e != s.spec.Error {
				st.Errors = append(st.Errors, e)
			}
		}
		p, err := notify.StatusParameters(st, s.spec.Content, m.cfg.BaseURL)
		if err != nil {
			return m.opFailed(ctx, "$status", err)
		}
		var head struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(p, &head)
		b.Entry = append(b.Entry, searchEntry{FullURL: "urn:uuid:" + head.ID, Resource: p, Search: searchMode{Mode: "match"}})
		touched = append(touched, "Subscription/"+s.spec.ID)
	}
	b.Total = len(b.Entry)
	out, err := json.Marshal(b)
	if err != nil {
		return m.opFailed(ctx, "$status", err)
	}
	return rest.Response{Status: http.StatusOK, Body: out, Touched: touched}
}

// opEvents answers $events: the events eventsSinceNumber..eventsUntilNumber
// (default: from 1 to the last) as a query-event notification Bundle, at
// most maxReplay of them, with the content asked for (default the
// subscription's). Foci and resources are shown only as far as the
// caller's own scopes reach.
func (m *Manager) opEvents(ctx context.Context, id string, params url.Values, body []byte) rest.Response {
	args, r, ok := opArgs(params, body)
	if !ok {
		return r
	}
	s, r, ok := m.readSubscription(ctx, id)
	if !ok {
		return r
	}
	prog, err := m.progress(ctx, id)
	if err != nil {
		return m.opFailed(ctx, "$events", err)
	}
	since, r, ok := eventNumber(args, "eventsSinceNumber", 1)
	if !ok {
		return r
	}
	until, r, ok := eventNumber(args, "eventsUntilNumber", prog.Events)
	if !ok {
		return r
	}
	content := s.spec.Content
	if c := args.Get("content"); c != "" {
		switch c {
		case notify.Empty, notify.IDOnly, notify.FullResource:
			content = c
		default:
			return fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("content %q is not empty, id-only or full-resource", c), "content")
		}
	}
	var evs []store.QueuedEvent
	if until >= since {
		if evs, err = m.cfg.State.Events(ctx, id, since, until, maxReplay); err != nil {
			return m.opFailed(ctx, "$events", err)
		}
	}
	// The caller's own scopes (in ctx) decide what of each event it sees.
	out, err := m.eventBundle(ctx, s.spec, evs, prog.Events, notify.QueryEvent, content)
	if err != nil {
		return m.opFailed(ctx, "$events", err)
	}
	return rest.Response{Status: http.StatusOK, Body: out, Touched: []string{"Subscription/" + id}}
}

// opWSToken answers $get-ws-binding-token: a single-use token binding a
// websocket to the named websocket subscriptions the caller may read.
func (m *Manager) opWSToken(ctx context.Context, id string, params url.Values, body []byte) rest.Response {
	args, r, ok := opArgs(params, body)
	if !ok {
		return r
	}
	ids := []string{id}
	if id == "" {
		if ids = splitList(args["id"]); len(ids) == 0 {
			return fail(http.StatusBadRequest, fhir.CodeRequired, "name the websocket subscriptions to bind with id parameters", "id")
		}
	}
	for _, sid := range ids {
		s, r, ok := m.readSubscription(ctx, sid)
		if !ok {
			return r
		}
		if s.spec.Channel != WebSocket {
			return fail(http.StatusUnprocessableEntity, fhir.CodeBusinessRule,
				fmt.Sprintf("Subscription/%s uses the %s channel; binding tokens are for websocket subscriptions", sid, s.spec.Channel), "id")
		}
		if !s.spec.live() {
			return fail(http.StatusUnprocessableEntity, fhir.CodeBusinessRule, fmt.Sprintf("Subscription/%s is %s", sid, s.spec.Status), "id")
		}
	}
	tok, expires, err := m.issueToken(ctx, ids)
	if err != nil {
		return m.opFailed(ctx, "$get-ws-binding-token", err)
	}
	ps := []map[string]any{
		{"name": "token", "valueString": tok},
		{"name": "expiration", "valueDateTime": expires.UTC().Format(time.RFC3339)},
	}
	for _, sid := range ids {
		ps = append(ps, map[string]any{"name": "subscription", "valueString": sid})
	}
	ps = append(ps, map[string]any{"name": "websocket-url", "valueUrl": m.websocketURL()})
	out, _ := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": ps})
	return rest.Response{Status: http.StatusOK, Body: out}
}

// readSub is a Subscription the caller read.
type readSub struct{ spec *Spec }

// readSubscription reads a Subscription as the caller: a 404 (or 403) is
// the caller's answer, exactly as a read would give it.
func (m *Manager) readSubscription(ctx context.Context, id string) (readSub, rest.Response, bool) {
	r := m.svc.Read(ctx, "Subscription", id)
	if r.Status != http.StatusOK {
		return readSub{}, r, false
	}
	spec, _ := m.parseSpec(r.Body, r.Version)
	spec.ID = id
	return readSub{spec}, rest.Response{}, true
}

// listSubscriptions is the type-level $status list: the ids named (each
// must be readable), or every Subscription the caller may search.
func (m *Manager) listSubscriptions(ctx context.Context, ids, statuses []string) ([]readSub, rest.Response, bool) {
	keep := func(s readSub) bool {
		if len(statuses) == 0 {
			return true
		}
		for _, st := range statuses {
			if s.spec.Status == st {
				return true
			}
		}
		return false
	}
	var out []readSub
	if len(ids) > 0 {
		for _, id := range ids {
			s, r, ok := m.readSubscription(ctx, id)
			if !ok {
				return nil, r, false
			}
			if keep(s) {
				out = append(out, s)
			}
		}
		return out, rest.Response{}, true
	}
	q := url.Values{"_count": {strconv.Itoa(maxStatusList)}}
	if len(statuses) > 0 {
		q.Set("status", strings.Join(statuses, ","))
	}
	r := m.svc.Search(ctx, "Subscription", q, rest.SearchOptions{})
	if r.Status != http.StatusOK {
		return nil, r, false
	}
	var page struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
			Search   struct {
				Mode string `json:"mode"`
			} `json:"search"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		return nil, m.opFailed(ctx, "$status", err), false
	}
	for _, e := range page.Entry {
		if e.Search.Mode != "" && e.Search.Mode != "match" {
			continue
		}
		var head struct {
			ID   string `json:"id"`
			Meta struct {
				VersionID string `json:"versionId"`
			} `json:"meta"`
		}
		_ = json.Unmarshal(e.Resource, &head)
		v, _ := strconv.ParseInt(head.Meta.VersionID, 10, 64)
		spec, _ := m.parseSpec(e.Resource, v)
		spec.ID = head.ID
		out = append(out, readSub{spec})
	}
	return out, rest.Response{}, true
}

// progress is a subscription's delivery state; zero before its first
// dispatch.
func (m *Manager) progress(ctx context.Context, id string) (store.SubscriptionState, error) {
	p, err := m.cfg.State.Progress(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.SubscriptionState{ID: id}, nil
	}
	return p, err
}

func (m *Manager) opFailed(ctx context.Context, op string, err error) rest.Response {
	m.log.ErrorContext(ctx, "subscription operation failed", "op", op, "err", err)
	return fail(http.StatusInternalServerError, fhir.CodeException, "internal server error")
}

func fail(status int, code, diagnostics string, expression ...string) rest.Response {
	o := fhir.NewOutcome(fhir.SeverityError, code, diagnostics, expression...)
	return rest.Response{Status: status, Body: o.JSON(), Outcome: o}
}

// opArgs merges an operation's URL parameters with those of a POSTed
// Parameters resource (primitive values only).
func opArgs(params url.Values, body []byte) (url.Values, rest.Response, bool) {
	args := url.Values{}
	for k, vs := range params {
		args[k] = append(args[k], vs...)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return args, rest.Response{}, true
	}
	var p struct {
		ResourceType string                       `json:"resourceType"`
		Parameter    []map[string]json.RawMessage `json:"parameter"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ResourceType != "Parameters" {
		return nil, fail(http.StatusBadRequest, fhir.CodeStructure, "the body must be a Parameters resource"), false
	}
	for i, prm := range p.Parameter {
		var name string
		_ = json.Unmarshal(prm["name"], &name)
		found := false
		for k, raw := range prm {
			if !strings.HasPrefix(k, "value") {
				continue
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				var n json.Number
				if err := json.Unmarshal(raw, &n); err != nil {
					return nil, fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("parameter %q must have a primitive value", name), fmt.Sprintf("Parameters.parameter[%d]", i)), false
				}
				s = n.String()
			}
			args.Add(name, s)
			found = true
		}
		if !found {
			return nil, fail(http.StatusBadRequest, fhir.CodeRequired, fmt.Sprintf("parameter %q has no value", name), fmt.Sprintf("Parameters.parameter[%d]", i)), false
		}
	}
	return args, rest.Response{}, true
}

// eventNumber reads an event-number argument (a string in the IG).
func eventNumber(args url.Values, name string, def int64) (int64, rest.Response, bool) {
	v := args.Get(name)
	if v == "" {
		return def, rest.Response{}, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n == math.MaxInt64 {
		return 0, fail(http.StatusBadRequest, fhir.CodeValue, fmt.Sprintf("%s %q is not an event number", name, v), name), false
	}
	return n, rest.Response{}, true
}

// splitList flattens repeated and comma-separated values.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

type searchset struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp"`
	Total        int           `json:"total"`
	Entry        []searchEntry `json:"entry"`
}

type searchEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Search   searchMode      `json:"search"`
}

type searchMode struct {
	Mode string `json:"mode"`
}

func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
