package notify

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type bundle struct {
	ResourceType string  `json:"resourceType"`
	ID           string  `json:"id"`
	Meta         meta    `json:"meta"`
	Type         string  `json:"type"`
	Timestamp    string  `json:"timestamp"`
	Entry        []entry `json:"entry"`
}

// entry carries request and response on every entry: a history Bundle
// requires both (R4 invariants bdl-3 and bdl-4).
type entry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Request  request         `json:"request"`
	Response response        `json:"response"`
}

type request struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type response struct {
	Status string `json:"status"`
}

// Bundle renders a notification Bundle (profile
// backport-subscription-notification-r4): type "history", the
// SubscriptionStatus Parameters first (fullUrl urn:uuid:<its id>, request
// GET [base]/Subscription/[id]/$status as the IG's examples show), then per
// payload:
//   - "empty": nothing more, and no focus in the status;
//   - "id-only": one entry per event with a focus: fullUrl (the absolute
//     focus URL), request and response, no resource;
//   - "full-resource": the same entries with the event's resource; an event
//     without Resource (e.g. a delete) keeps just request and response, as
//     the IG prescribes when the resource cannot be included.
//
// The topic parameter is written whenever st.Topic is set, as in the IG's
// STU 1.1 examples (including the empty-payload one).
func Bundle(st Status, payload, baseURL string, now time.Time) ([]byte, error) {
	statusID := newUUID()
	p, err := statusParameters(st, payload, baseURL, statusID)
	if err != nil {
		return nil, err
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	b := bundle{
		ResourceType: "Bundle",
		ID:           newUUID(),
		Meta:         meta{Profile: []string{BundleProfile}},
		Type:         "history",
		Timestamp:    instant(now),
		Entry: []entry{{
			FullURL:  "urn:uuid:" + statusID,
			Resource: pj,
			Request:  request{Method: "GET", URL: absolute(baseURL, st.Subscription) + "/$status"},
			Response: response{Status: "200"},
		}},
	}
	if payload != Empty {
		for _, ev := range st.Events {
			if ev.Focus == "" {
				continue
			}
			e, err := eventEntry(ev, payload, baseURL)
			if err != nil {
				return nil, err
			}
			b.Entry = append(b.Entry, e)
		}
	}
	return json.Marshal(b)
}

// eventEntry is the history entry of one event's focus resource.
func eventEntry(ev Event, payload, baseURL string) (entry, error) {
	e := entry{FullURL: absolute(baseURL, ev.Focus)}
	typ, _, _ := strings.Cut(ev.Focus, "/")
	switch ev.Method {
	case "", "POST":
		e.Request = request{Method: "POST", URL: typ}
		e.Response = response{Status: "201"}
	case "PUT":
		e.Request = request{Method: "PUT", URL: ev.Focus}
		e.Response = response{Status: "200"}
	case "DELETE":
		e.Request = request{Method: "DELETE", URL: ev.Focus}
		e.Response = response{Status: "204"}
	}
	if payload == FullResource && ev.Resource != nil {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(ev.Resource, &head); err != nil {
			return entry{}, fmt.Errorf("notify: event %d resource for %s is not a JSON object: %v", ev.Number, ev.Focus, err)
		}
		if head.ResourceType != typ {
			return entry{}, fmt.Errorf("notify: event %d resource is a %q, but its focus is %s", ev.Number, head.ResourceType, ev.Focus)
		}
		e.Resource = ev.Resource
	}
	return e, nil
}

// newUUID is a random (version 4) UUID for ids and urn:uuid fullUrls.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("notify: crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
