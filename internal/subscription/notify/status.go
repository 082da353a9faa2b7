// Package notify renders subscription notifications the way the
// Subscriptions R5 Backport IG (STU 1.1) shapes them on R4: a history
// Bundle whose first entry is a Parameters resource profiled as
// backport-subscription-status-r4 (R4 has no SubscriptionStatus resource),
// followed by the events' resources or references depending on the payload
// content (empty, id-only, full-resource). The package only renders; it
// knows nothing about storage or delivery.
package notify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Profile URLs from the backport IG.
const (
	StatusProfile = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4"
	BundleProfile = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4"
)

// Kind is the notification type (SubscriptionStatus.type).
type Kind string

// The notification types of the IG's subscription-notification-type value set.
const (
	Handshake         Kind = "handshake"
	Heartbeat         Kind = "heartbeat"
	EventNotification Kind = "event-notification"
	QueryStatus       Kind = "query-status"
	QueryEvent        Kind = "query-event"
)

// Payload contents (the backport-payload-content extension's codes).
const (
	Empty        = "empty"
	IDOnly       = "id-only"
	FullResource = "full-resource"
)

// Event is one triggering event of a subscription.
type Event struct {
	Number    int64     // event number (event-number)
	Timestamp time.Time // when it happened (timestamp); zero = left out
	Focus     string    // "Type/id" (rendered as an absolute reference with the base URL); "" = none
	Resource  []byte    // full resource JSON, only for full-resource payloads; nil otherwise
	// Method is the HTTP method of the interaction that caused the event,
	// shown in the event entry's request: "POST" (create; the default, as
	// in the IG's examples), "PUT" (update) or "DELETE".
	Method string
}

// Status is what the SubscriptionStatus Parameters say.
type Status struct {
	Subscription string // "Subscription/id"
	// Topic is the canonical URL of the SubscriptionTopic. The R4 profile
	// makes the topic parameter optional (0..1), and an R4 criteria-based
	// Subscription has no topic (its criteria is a search, not a
	// canonical), so leave Topic empty for those and the parameter is
	// left out.
	Topic            string
	Status           string // requested | active | error | off
	Kind             Kind
	EventsSinceStart int64
	Events           []Event
	Errors           []string // rendered as error CodeableConcepts (text)
}

// parameter is one Parameters.parameter; only the value fields this
// profile uses exist.
type parameter struct {
	Name                 string           `json:"name"`
	ValueReference       *reference       `json:"valueReference,omitempty"`
	ValueCanonical       string           `json:"valueCanonical,omitempty"`
	ValueCode            string           `json:"valueCode,omitempty"`
	ValueString          string           `json:"valueString,omitempty"`
	ValueInstant         string           `json:"valueInstant,omitempty"`
	ValueCodeableConcept *codeableConcept `json:"valueCodeableConcept,omitempty"`
	Part                 []parameter      `json:"part,omitempty"`
}

type reference struct {
	Reference string `json:"reference"`
}

type codeableConcept struct {
	Text string `json:"text"`
}

type meta struct {
	Profile []string `json:"profile"`
}

type parameters struct {
	ResourceType string      `json:"resourceType"`
	ID           string      `json:"id,omitempty"`
	Meta         meta        `json:"meta"`
	Parameter    []parameter `json:"parameter"`
}

// StatusParameters renders just the SubscriptionStatus Parameters resource
// (for $status search results, Bundle type searchset). It has a fresh id.
func StatusParameters(st Status, payload, baseURL string) ([]byte, error) {
	p, err := statusParameters(st, payload, baseURL, newUUID())
	if err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// statusParameters builds the Parameters; id is the resource id.
func statusParameters(st Status, payload, baseURL, id string) (*parameters, error) {
	if err := st.validate(payload, baseURL); err != nil {
		return nil, err
	}
	ps := []parameter{{Name: "subscription", ValueReference: &reference{absolute(baseURL, st.Subscription)}}}
	if st.Topic != "" {
		ps = append(ps, parameter{Name: "topic", ValueCanonical: st.Topic})
	}
	ps = append(ps,
		parameter{Name: "status", ValueCode: st.Status},
		parameter{Name: "type", ValueCode: string(st.Kind)},
		parameter{Name: "events-since-subscription-start", ValueString: strconv.FormatInt(st.EventsSinceStart, 10)},
	)
	for _, ev := range st.Events {
		parts := []parameter{{Name: "event-number", ValueString: strconv.FormatInt(ev.Number, 10)}}
		if !ev.Timestamp.IsZero() {
			parts = append(parts, parameter{Name: "timestamp", ValueInstant: instant(ev.Timestamp)})
		}
		// An empty payload SHALL NOT reference resources (payloads page).
		if payload != Empty && ev.Focus != "" {
			parts = append(parts, parameter{Name: "focus", ValueReference: &reference{absolute(baseURL, ev.Focus)}})
		}
		ps = append(ps, parameter{Name: "notification-event", Part: parts})
	}
	for _, e := range st.Errors {
		if strings.TrimSpace(e) == "" {
			continue // a CodeableConcept needs content
		}
		ps = append(ps, parameter{Name: "error", ValueCodeableConcept: &codeableConcept{Text: e}})
	}
	return &parameters{ResourceType: "Parameters", ID: id, Meta: meta{Profile: []string{StatusProfile}}, Parameter: ps}, nil
}

var statuses = map[string]bool{"requested": true, "active": true, "error": true, "off": true}

var kinds = map[Kind]bool{Handshake: true, Heartbeat: true, EventNotification: true, QueryStatus: true, QueryEvent: true}

// validate refuses what would render an invalid or misleading status.
func (st Status) validate(payload, baseURL string) error {
	typ, id, ok := strings.Cut(st.Subscription, "/")
	if !ok || typ != "Subscription" || id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("notify: subscription %q is not of the form Subscription/id", st.Subscription)
	}
	if !statuses[st.Status] {
		return fmt.Errorf("notify: subscription status %q is not requested, active, error or off", st.Status)
	}
	if !kinds[st.Kind] {
		return fmt.Errorf("notify: notification type %q is not handshake, heartbeat, event-notification, query-status or query-event", st.Kind)
	}
	if !strings.Contains(baseURL, "://") {
		return fmt.Errorf("notify: base URL %q is not absolute", baseURL)
	}
	switch payload {
	case Empty, IDOnly, FullResource:
	default:
		return fmt.Errorf("notify: payload content %q is not empty, id-only or full-resource", payload)
	}
	if st.EventsSinceStart < 0 {
		return fmt.Errorf("notify: events since start %d is negative", st.EventsSinceStart)
	}
	for _, ev := range st.Events {
		if ev.Focus != "" && !validFocus(ev.Focus) {
			return fmt.Errorf("notify: event %d focus %q is not of the form Type/id", ev.Number, ev.Focus)
		}
		switch ev.Method {
		case "", "POST", "PUT", "DELETE":
		default:
			return fmt.Errorf("notify: event %d method %q is not POST, PUT or DELETE", ev.Number, ev.Method)
		}
	}
	return nil
}

func validFocus(f string) bool {
	typ, id, ok := strings.Cut(f, "/")
	return ok && typ != "" && id != "" && !strings.Contains(id, "/") && !strings.Contains(typ, ":")
}

// absolute turns "Type/id" into "base/Type/id".
func absolute(baseURL, rel string) string {
	return strings.TrimSuffix(baseURL, "/") + "/" + rel
}

// instant renders an R4 instant (UTC, milliseconds).
func instant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
