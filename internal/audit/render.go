package audit

import (
	"net"
	"strings"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// The R4 AuditEvent as the trail renders it, elements in the order of the
// specification.
type (
	auditEvent struct {
		ResourceType string   `json:"resourceType"`
		ID           string   `json:"id"`
		Meta         meta     `json:"meta"`
		Type         coding   `json:"type"`
		Subtype      []coding `json:"subtype,omitempty"`
		Action       string   `json:"action"`
		Period       period   `json:"period"`
		Recorded     string   `json:"recorded"`
		Outcome      string   `json:"outcome"`
		OutcomeDesc  string   `json:"outcomeDesc,omitempty"`
		Agent        []agent  `json:"agent"`
		Source       source   `json:"source"`
		Entity       []entity `json:"entity,omitempty"`
	}
	meta struct {
		VersionID   string `json:"versionId,omitempty"`
		LastUpdated string `json:"lastUpdated"`
	}
	period struct {
		Start string `json:"start"`
		End   string `json:"end"`
	}
	agent struct {
		Type      *concept   `json:"type,omitempty"`
		Who       *reference `json:"who,omitempty"`
		AltID     string     `json:"altId,omitempty"`
		Requestor bool       `json:"requestor"`
		Network   *network   `json:"network,omitempty"`
	}
	concept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	reference struct {
		Reference  string      `json:"reference,omitempty"`
		Identifier *identifier `json:"identifier,omitempty"`
		Display    string      `json:"display,omitempty"`
	}
	identifier struct {
		Type   *concept `json:"type,omitempty"`
		System string   `json:"system,omitempty"`
		Value  string   `json:"value"`
	}
	network struct {
		Address string `json:"address"`
		Type    string `json:"type"`
	}
	source struct {
		Site     string    `json:"site,omitempty"`
		Observer reference `json:"observer"`
		Type     []coding  `json:"type"`
	}
	entity struct {
		What *reference `json:"what,omitempty"`
		Type *coding    `json:"type,omitempty"`
		Role *coding    `json:"role,omitempty"`
	}
)

// instantFormat writes recorded times to the microsecond they are stored
// with, so that a date search on a rendered value finds the event.
const instantFormat = "2006-01-02T15:04:05.000000Z07:00"

var (
	humanUser   = &concept{Coding: []coding{{System: systemRoleType, Code: "humanuser", Display: "human user"}}}
	application = &concept{Coding: []coding{{System: systemDICOM, Code: "110150", Display: "Application"}}}
	patientRole = &coding{System: systemObjectRole, Code: "1", Display: "Patient"}
	domainRole  = &coding{System: systemObjectRole, Code: "4", Display: "Domain Resource"}
	systemObj   = &coding{System: systemEntityType, Code: "2", Display: "System Object"}
	appServer   = []coding{{System: systemSourceType, Code: "4", Display: "Application Server"}}
	requestType = &concept{Text: "X-Request-Id"}
)

// render writes a stored event as R4 AuditEvent JSON.
func (t *Trail) render(r *auditstore.Row) ([]byte, error) {
	typ, subtype, act := classify(r.Action)
	recorded := microTime(r.Recorded).Format(instantFormat)
	ev := auditEvent{
		ResourceType: "AuditEvent",
		ID:           t.ids.id(r.Key),
		Meta:         meta{VersionID: "1", LastUpdated: recorded},
		Type:         typ,
		Action:       act,
		Period:       period{Start: microTime(r.Started).Format(instantFormat), End: recorded},
		Recorded:     recorded,
		Outcome:      Outcome(r.Status),
		OutcomeDesc:  r.Detail,
		Agent:        agents(r),
		Source:       t.source(),
	}
	ev.Entity = entities(r, r.Entities)
	if subtype != nil {
		ev.Subtype = []coding{*subtype}
	}
	return marshal(ev)
}

// agents are who asked: the user (fhirUser, with the token's subject as
// altId) and the client application that acted for them, or the client
// alone when it acted for itself (backend services), or an anonymous
// requestor when nobody was authenticated. The requestor carries the
// network address.
func agents(r *auditstore.Row) []agent {
	var nw *network
	if r.Source != "" {
		nw = &network{Address: r.Source, Type: "1"} // a machine name
		if net.ParseIP(r.Source) != nil {
			nw.Type = "2" // an IP address
		}
	}
	client := func(requestor bool) agent {
		return agent{Type: application, Who: &reference{Identifier: &identifier{Value: r.Client}}, Requestor: requestor}
	}
	switch {
	case r.Who != "":
		out := []agent{{Type: humanUser, Who: &reference{Reference: r.Who}, AltID: r.Subject, Requestor: true, Network: nw}}
		if r.Client != "" {
			out = append(out, client(false))
		}
		return out
	case r.Client != "":
		a := client(true)
		a.AltID, a.Network = r.Subject, nw
		return []agent{a}
	case r.Subject != "":
		return []agent{{Type: humanUser, AltID: r.Subject, Requestor: true, Network: nw}}
	}
	return []agent{{Who: &reference{Display: "anonymous"}, Requestor: true, Network: nw}}
}

// source is this server, observing.
func (t *Trail) source() source {
	s := source{Site: t.opts.BaseURL, Observer: reference{Display: "Telederm"}, Type: appServer}
	if t.opts.BaseURL != "" {
		s.Observer.Identifier = &identifier{System: "urn:ietf:rfc:3986", Value: t.opts.BaseURL}
	}
	return s
}

// entities are the resources touched, the patient in context (role
// Patient), the resource type of a type-level request that touched none
// of that type, and the request id that ties the event to the log.
func entities(r *auditstore.Row, refs []string) []entity {
	var out []entity
	patient := ""
	if r.Patient != "" {
		patient = "Patient/" + r.Patient
	}
	sawType, sawPatient := false, false
	for _, ref := range refs {
		typ, _, _ := strings.Cut(ref, "/")
		e := entity{What: &reference{Reference: ref}, Type: resourceType(typ), Role: domainRole}
		if ref == patient {
			e.Role, sawPatient = patientRole, true
		}
		sawType = sawType || typ == r.Type
		out = append(out, e)
	}
	if patient != "" && !sawPatient {
		out = append(out, entity{What: &reference{Reference: patient}, Type: resourceType("Patient"), Role: patientRole})
	}
	if r.Type != "" && !sawType {
		out = append(out, entity{Type: resourceType(r.Type)})
	}
	if r.RequestID != "" {
		out = append(out, entity{What: &reference{Identifier: &identifier{Type: requestType, Value: r.RequestID}}, Type: systemObj})
	}
	return out
}

func resourceType(typ string) *coding {
	return &coding{System: systemResourceType, Code: typ, Display: typ}
}
