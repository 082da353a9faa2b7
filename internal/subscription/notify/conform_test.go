package notify

import (
	"encoding/json"
	"fmt"
	"strings"
)

// This file holds the test-side reading of the IG: the rules of
// backport-subscription-notification-r4 and backport-subscription-status-r4
// that the project's R4 codec does not check (it validates R4 structure,
// not these profiles, nor the history-Bundle invariants bdl-3/bdl-4).

type jsonBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Timestamp    string `json:"timestamp"`
	Meta         struct {
		Profile []string `json:"profile"`
	} `json:"meta"`
	Entry []jsonEntry `json:"entry"`
}

type jsonEntry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
	Response *struct {
		Status string `json:"status"`
	} `json:"response"`
}

type jsonParameters struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		Profile []string `json:"profile"`
	} `json:"meta"`
	Parameter []jsonParam `json:"parameter"`
}

// jsonParam keeps every member so the value[x] type can be named.
type jsonParam map[string]json.RawMessage

func (p jsonParam) name() string {
	var s string
	json.Unmarshal(p["name"], &s)
	return s
}

// valueType is the value[x] member's name ("valueCode"), or "part".
func (p jsonParam) valueType() string {
	for k := range p {
		if strings.HasPrefix(k, "value") {
			return k
		}
	}
	if _, ok := p["part"]; ok {
		return "part"
	}
	return ""
}

func (p jsonParam) parts() []jsonParam {
	var ps []jsonParam
	json.Unmarshal(p["part"], &ps)
	return ps
}

func (p jsonParam) str(member string) string {
	var s string
	json.Unmarshal(p[member], &s)
	return s
}

func (p jsonParam) reference() string {
	var r struct{ Reference string }
	json.Unmarshal(p["valueReference"], &r)
	return r.Reference
}

func decodeBundle(b []byte) (jsonBundle, error) {
	var bb jsonBundle
	err := json.Unmarshal(b, &bb)
	return bb, err
}

func decodeParameters(b []byte) (jsonParameters, error) {
	var p jsonParameters
	err := json.Unmarshal(b, &p)
	return p, err
}

// checkNotification lists every way b breaks the notification profile.
func checkNotification(b []byte) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	bb, err := decodeBundle(b)
	if err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	if bb.ResourceType != "Bundle" || bb.Type != "history" {
		bad("resourceType %q type %q, want a history Bundle", bb.ResourceType, bb.Type)
	}
	if bb.Timestamp == "" {
		bad("no timestamp")
	}
	if len(bb.Entry) == 0 {
		return append(errs, "no entries")
	}
	for i, e := range bb.Entry {
		if e.FullURL == "" {
			bad("entry %d has no fullUrl", i)
		}
		if e.Request == nil || e.Request.Method == "" || e.Request.URL == "" {
			bad("entry %d has no request (bdl-3)", i)
		}
		if e.Response == nil || e.Response.Status == "" {
			bad("entry %d has no response (bdl-4)", i)
		}
	}
	p, err := decodeParameters(bb.Entry[0].Resource)
	if err != nil || p.ResourceType != "Parameters" {
		return append(errs, "entry 0 is not a Parameters resource (backport-notification-bundle-r4-1)")
	}
	if !strings.HasPrefix(bb.Entry[0].FullURL, "urn:uuid:") || strings.TrimPrefix(bb.Entry[0].FullURL, "urn:uuid:") != p.ID {
		bad("entry 0 fullUrl %q is not urn:uuid:<its id %q>", bb.Entry[0].FullURL, p.ID)
	}
	return append(errs, checkStatus(p)...)
}

// checkStatus lists every way p breaks backport-subscription-status-r4.
func checkStatus(p jsonParameters) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(p.Meta.Profile) != 1 || p.Meta.Profile[0] != StatusProfile {
		bad("meta.profile %v, want [%s]", p.Meta.Profile, StatusProfile)
	}
	want := map[string]struct {
		min, max int
		typ      string
	}{
		"subscription":                    {1, 1, "valueReference"},
		"topic":                           {0, 1, "valueCanonical"},
		"status":                          {1, 1, "valueCode"},
		"type":                            {1, 1, "valueCode"},
		"events-since-subscription-start": {0, 1, "valueString"},
		"notification-event":              {0, 1 << 30, "part"},
		"error":                           {0, 1 << 30, "valueCodeableConcept"},
	}
	count := map[string]int{}
	for _, prm := range p.Parameter {
		n := prm.name()
		count[n]++
		w, ok := want[n]
		if !ok {
			continue // the slicing is open
		}
		if got := prm.valueType(); got != w.typ {
			bad("parameter %s has %s, want %s", n, got, w.typ)
		}
		if n == "notification-event" {
			errs = append(errs, checkEventParts(prm.parts())...)
		}
	}
	for n, w := range want {
		if count[n] < w.min || count[n] > w.max {
			bad("parameter %s appears %d times, want %d..%d", n, count[n], w.min, w.max)
		}
	}
	return errs
}

func checkEventParts(parts []jsonParam) []string {
	var errs []string
	want := map[string]string{"event-number": "valueString", "timestamp": "valueInstant", "focus": "valueReference", "additional-context": "valueReference"}
	count := map[string]int{}
	for _, pt := range parts {
		n := pt.name()
		count[n]++
		if w, ok := want[n]; ok && pt.valueType() != w {
			errs = append(errs, fmt.Sprintf("notification-event part %s has %s, want %s", n, pt.valueType(), w))
		}
	}
	if count["event-number"] != 1 || count["timestamp"] > 1 || count["focus"] > 1 {
		errs = append(errs, fmt.Sprintf("notification-event parts %v break event-number 1..1, timestamp 0..1, focus 0..1", count))
	}
	return errs
}

// shape is what must match between a rendered Bundle and the IG's example:
// entries in order with which members they carry, and the status
// Parameters' names and value types in order.
func shape(b []byte) (string, error) {
	bb, err := decodeBundle(b)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Bundle type=%s profile=%v\n", bb.Type, bb.Meta.Profile)
	for i, e := range bb.Entry {
		var head struct{ ResourceType string }
		json.Unmarshal(e.Resource, &head)
		fmt.Fprintf(&sb, "entry %d: resource=%q fullUrl=%s", i, head.ResourceType, urlKind(e.FullURL))
		if e.Request != nil {
			fmt.Fprintf(&sb, " request=%s %s", e.Request.Method, urlKind(e.Request.URL))
		}
		if e.Response != nil {
			fmt.Fprintf(&sb, " response=%s", e.Response.Status)
		}
		sb.WriteByte('\n')
		if head.ResourceType == "Parameters" {
			p, err := decodeParameters(e.Resource)
			if err != nil {
				return "", err
			}
			sb.WriteString(paramsShape(p))
		}
	}
	return sb.String(), nil
}

func paramsShape(p jsonParameters) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "  Parameters profile=%v id=%v\n", p.Meta.Profile, p.ID != "")
	for _, prm := range p.Parameter {
		fmt.Fprintf(&sb, "  %s: %s", prm.name(), prm.valueType())
		for _, pt := range prm.parts() {
			fmt.Fprintf(&sb, " [%s: %s]", pt.name(), pt.valueType())
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// urlKind abstracts a URL to its form: urn:uuid, absolute, or the relative
// shape (Type, Type/id).
func urlKind(u string) string {
	switch {
	case u == "":
		return "none"
	case strings.HasPrefix(u, "urn:uuid:"):
		return "urn:uuid"
	case strings.HasSuffix(u, "/$status") && strings.Contains(u, "://"):
		return "absolute:Subscription/id/$status"
	case strings.Contains(u, "://"):
		return "absolute"
	case strings.Count(u, "/") == 0:
		return "Type"
	default:
		return "Type/id"
	}
}
