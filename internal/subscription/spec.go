package subscription

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/subscription/notify"
)

// Extensions of the Subscriptions R5 Backport IG on the R4 Subscription.
const (
	backport             = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
	extFilterCriteria    = backport + "backport-filter-criteria"
	extPayloadContent    = backport + "backport-payload-content"
	extHeartbeatPeriod   = backport + "backport-heartbeat-period"
	extTimeout           = backport + "backport-timeout"
	extMaxCount          = backport + "backport-max-count"
	extChannelType       = backport + "backport-channel-type"
	backportSubscription = backport + "backport-subscription"
)

// Channel types served.
const (
	RestHook  = "rest-hook"
	WebSocket = "websocket"
)

// Subscription statuses.
const (
	statusRequested = "requested"
	statusActive    = "active"
	statusError     = "error"
	statusOff       = "off"
)

// Spec is a Subscription resource as delivery reads it.
type Spec struct {
	ID      string
	Version int64
	Status  string
	Error   string // the error element: why the server set status error
	End     time.Time
	// Topic is set for a topic-based (backport) subscription; Criteria is
	// the raw R4 criteria otherwise.
	Topic    *Topic
	Criteria string
	// Query decides which changes of Query.Type match: the R4 criteria, or
	// the topic's filters (all of them).
	Query     query
	Channel   string
	Endpoint  string
	Headers   []Header
	MIME      string // Content-Type of notifications
	Content   string // notify.Empty, notify.IDOnly or notify.FullResource
	Heartbeat time.Duration
	Timeout   time.Duration // 0: the server's default
	MaxCount  int           // 0: the server's default
}

// Header is one channel.header, split.
type Header struct{ Name, Value string }

// live reports whether changes are matched against the subscription.
func (s *Spec) live() bool {
	return s.Status == statusRequested || s.Status == statusActive || s.Status == statusError
}

// topicURL is the topic's canonical, or "" for an R4 criteria subscription.
func (s *Spec) topicURL() string {
	if s.Topic == nil {
		return ""
	}
	return s.Topic.URL
}

// The JSON of an R4 Subscription, as far as delivery reads it.
type subscriptionJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		Profile []string `json:"profile"`
	} `json:"meta"`
	Status      string      `json:"status"`
	End         string      `json:"end"`
	Error       string      `json:"error"`
	Criteria    string      `json:"criteria"`
	CriteriaExt *elementExt `json:"_criteria"`
	Channel     channelJSON `json:"channel"`
}

type channelJSON struct {
	Extension  []extension `json:"extension"`
	Type       string      `json:"type"`
	TypeExt    *elementExt `json:"_type"`
	Endpoint   string      `json:"endpoint"`
	Payload    string      `json:"payload"`
	PayloadExt *elementExt `json:"_payload"`
	Header     []string    `json:"header"`
}

type elementExt struct {
	Extension []extension `json:"extension"`
}

type extension struct {
	URL              string          `json:"url"`
	ValueString      *string         `json:"valueString"`
	ValueCode        *string         `json:"valueCode"`
	ValueUnsignedInt *json.Number    `json:"valueUnsignedInt"`
	ValuePositiveInt *json.Number    `json:"valuePositiveInt"`
	ValueCoding      json.RawMessage `json:"valueCoding"`
}

// forbiddenHeaders are channel headers the server sets itself or that
// would change how the request travels.
var forbiddenHeaders = []string{"Host", "Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "Te", "Trailer", "Upgrade", "Expect", "Proxy-Authorization", "Keep-Alive"}

// maxHeaders bounds channel.header; maxTimeoutSeconds what backport-timeout
// may ask for, whatever the server's cap.
const (
	maxHeaders        = 20
	maxTimeoutSeconds = 600
	maxMaxCount       = 1000
)

// parseSpec reads a Subscription's body (version as stored). Every problem
// is an issue naming its element; with issues the spec is still filled as
// far as it could be read.
func (m *Manager) parseSpec(body []byte, version int64) (*Spec, []fhir.Issue) {
	var j subscriptionJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return &Spec{Version: version}, []fhir.Issue{issue(fhir.CodeStructure, "Subscription", "the Subscription cannot be read: %v", err)}
	}
	s := &Spec{ID: j.ID, Version: version, Status: j.Status, Error: j.Error, Criteria: j.Criteria}
	var issues []fhir.Issue
	add := func(is ...fhir.Issue) { issues = append(issues, is...) }

	if j.End != "" {
		if t, err := time.Parse(time.RFC3339, j.End); err == nil {
			s.End = t
		} else {
			add(issue(fhir.CodeValue, "Subscription.end", "end %q is not an instant", j.End))
		}
	}
	add(m.readCriteria(s, &j)...)
	add(m.readChannel(s, &j.Channel)...)
	return s, issues
}

// readCriteria decides topic-based or criteria-based and reads filters.
func (m *Manager) readCriteria(s *Spec, j *subscriptionJSON) []fhir.Issue {
	var filters []string
	var filterAt []string
	if j.CriteriaExt != nil {
		for i, e := range j.CriteriaExt.Extension {
			if e.URL != extFilterCriteria {
				continue
			}
			at := fmt.Sprintf("Subscription.criteria.extension[%d].value", i)
			if e.ValueString == nil {
				return []fhir.Issue{issue(fhir.CodeRequired, at, "backport-filter-criteria needs a valueString")}
			}
			filters, filterAt = append(filters, *e.ValueString), append(filterAt, at)
		}
	}
	topicBased := slices.Contains(j.Meta.Profile, backportSubscription) || isAbsoluteURL(j.Criteria)
	if !topicBased {
		if len(filters) > 0 {
			return []fhir.Issue{issue(fhir.CodeNotSupported, filterAt[0],
				"backport-filter-criteria belongs to topic-based subscriptions; put the search in Subscription.criteria")}
		}
		q, issues := m.queries.parse(j.Criteria, "", "Subscription.criteria", nil)
		s.Query = q
		return issues
	}
	t, ok := m.topics.lookup(j.Criteria)
	if !ok {
		return []fhir.Issue{issue(fhir.CodeNotSupported, "Subscription.criteria",
			"topic %q is not served here; the topics are listed in the CapabilityStatement (%s on rest.resource Subscription), e.g. %s",
			j.Criteria, TopicCanonicalExtension, m.topics.list[0].URL)}
	}
	s.Topic = t
	s.Query = query{Type: t.Type}
	var issues []fhir.Issue
	for i, f := range filters {
		q, is := m.queries.parse(f, t.Type, filterAt[i], t.allows)
		issues = append(issues, is...)
		s.Query.Where = append(s.Query.Where, q.Where...)
	}
	return issues
}

func isAbsoluteURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "urn:")
}

// readChannel reads channel type, endpoint, headers, payload and the
// backport's channel extensions.
func (m *Manager) readChannel(s *Spec, c *channelJSON) []fhir.Issue {
	var issues []fhir.Issue
	add := func(is fhir.Issue) { issues = append(issues, is) }
	s.Channel = c.Type
	switch c.Type {
	case RestHook, WebSocket:
	case "email", "sms", "message":
		add(issue(fhir.CodeNotSupported, "Subscription.channel.type",
			"channel type %q is not supported: Telederm delivers by rest-hook and websocket", c.Type))
	default:
		add(issue(fhir.CodeValue, "Subscription.channel.type", "channel type %q is not one of rest-hook, websocket", c.Type))
	}
	if c.TypeExt != nil {
		for i, e := range c.TypeExt.Extension {
			if e.URL == extChannelType {
				add(issue(fhir.CodeNotSupported, fmt.Sprintf("Subscription.channel.type.extension[%d]", i),
					"custom channel types (backport-channel-type) are not supported: use rest-hook or websocket"))
			}
		}
	}
	if c.Type == RestHook {
		s.Endpoint = c.Endpoint
		if err := m.cfg.Egress.CheckEndpoint(c.Endpoint); err != nil {
			add(issue(fhir.CodeValue, "Subscription.channel.endpoint", "%v", err))
		}
	}
	if len(c.Header) > maxHeaders {
		add(issue(fhir.CodeTooLong, "Subscription.channel.header", "at most %d channel headers", maxHeaders))
	}
	for i, h := range c.Header {
		hd, err := parseHeader(h)
		if err != nil {
			add(issue(fhir.CodeValue, fmt.Sprintf("Subscription.channel.header[%d]", i), "%v", err))
			continue
		}
		s.Headers = append(s.Headers, hd)
	}
	issues = append(issues, readPayload(s, c)...)
	for i, e := range c.Extension {
		at := fmt.Sprintf("Subscription.channel.extension[%d].value", i)
		switch e.URL {
		case extHeartbeatPeriod:
			n, err := extInt(e.ValueUnsignedInt, 0, 86400*366)
			if err != nil {
				add(issue(fhir.CodeValue, at, "backport-heartbeat-period: %v", err))
			}
			s.Heartbeat = time.Duration(n) * time.Second
		case extTimeout:
			n, err := extInt(e.ValueUnsignedInt, 1, maxTimeoutSeconds)
			if err != nil {
				add(issue(fhir.CodeValue, at, "backport-timeout: %v", err))
			}
			s.Timeout = time.Duration(n) * time.Second
		case extMaxCount:
			n, err := extInt(e.ValuePositiveInt, 1, maxMaxCount)
			if err != nil {
				add(issue(fhir.CodeValue, at, "backport-max-count: %v", err))
			}
			s.MaxCount = int(n)
		}
	}
	return issues
}

// readPayload reads the MIME type and the content level. An R4
// criteria-based subscription without the backport extension gets the
// full resource when it names a payload (R4 sent the resource) and an
// empty notification when it names none; a topic-based one defaults to
// id-only.
func readPayload(s *Spec, c *channelJSON) []fhir.Issue {
	var issues []fhir.Issue
	s.MIME = "application/fhir+json"
	if c.Payload != "" {
		mt, _, err := mime.ParseMediaType(c.Payload)
		switch {
		case err != nil:
			issues = append(issues, issue(fhir.CodeValue, "Subscription.channel.payload", "payload %q is not a MIME type: %v", c.Payload, err))
		case mt != "application/fhir+json" && mt != "application/json":
			issues = append(issues, issue(fhir.CodeNotSupported, "Subscription.channel.payload",
				"payload type %q is not supported: notifications are sent as application/fhir+json or application/json", c.Payload))
		default:
			s.MIME = c.Payload
		}
	}
	switch {
	case c.Payload == "" && s.Topic == nil:
		s.Content = notify.Empty
	case s.Topic == nil:
		s.Content = notify.FullResource
	default:
		s.Content = notify.IDOnly
	}
	if c.PayloadExt != nil {
		for i, e := range c.PayloadExt.Extension {
			if e.URL != extPayloadContent {
				continue
			}
			at := fmt.Sprintf("Subscription.channel.payload.extension[%d].value", i)
			switch code := deref(e.ValueCode); code {
			case notify.Empty, notify.IDOnly, notify.FullResource:
				s.Content = code
			default:
				issues = append(issues, issue(fhir.CodeValue, at, "payload content %q is not empty, id-only or full-resource", code))
			}
		}
	}
	return issues
}

// parseHeader splits "Name: value" and refuses what the server must set.
func parseHeader(h string) (Header, error) {
	name, value, ok := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Header{}, fmt.Errorf("a channel header is written \"Name: value\"")
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return Header{}, fmt.Errorf("header name %q has characters a header name cannot have", name)
		}
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return Header{}, fmt.Errorf("the value of header %s has a line break", name)
	}
	canon := textproto.CanonicalMIMEHeaderKey(name)
	if slices.Contains(forbiddenHeaders, canon) {
		return Header{}, fmt.Errorf("header %s is set by the server and cannot be given", canon)
	}
	return Header{Name: canon, Value: strings.TrimSpace(value)}, nil
}

func extInt(n *json.Number, lo, hi int64) (int64, error) {
	if n == nil {
		return 0, fmt.Errorf("the value is missing or of the wrong type")
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%s is not a whole number from %d to %d", n.String(), lo, hi)
	}
	return v, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
