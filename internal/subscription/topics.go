package subscription

import (
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
)

// TopicCanonicalExtension is the backport IG's CapabilityStatement
// extension naming a topic the server serves.
const TopicCanonicalExtension = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical"

// topicPath is where topic canonicals live under the base URL.
const topicPath = "/SubscriptionTopic/"

// Topic is one subscription topic Telederm serves. Its canonical URL is
// {base}/SubscriptionTopic/{Name}.
type Topic struct {
	Name string
	URL  string
	// Type is the resource type whose changes the topic is about (the
	// notification's focus).
	Type string
	// Title says in a few words what triggers it.
	Title string
	// Filters are the search parameters backport-filter-criteria may use;
	// nil allows every parameter of Type that can be matched in memory.
	Filters []string
	// trigger decides whether a change of Type is an event of the topic,
	// before filters.
	trigger func(c *change) (bool, error)
}

// allows reports whether a filter may use parameter code.
func (t *Topic) allows(code string) bool {
	return t.Filters == nil || slices.Contains(t.Filters, code)
}

// The workflow topics of the teledermatology service.
const (
	TopicReferralSubmitted     = "referral-submitted"
	TopicReferralStatusChanged = "referral-status-changed"
	TopicAdviceIssued          = "advice-issued"
	TopicReferralOverdue       = "referral-overdue"
)

// overdueFlag is the tag the workflow puts on a referral's Task once its
// due date has passed without advice (internal/telederm).
const (
	overdueFlagSystem = "https://telederm.example/fhir/CodeSystem/referral-flag"
	overdueFlagCode   = "overdue"
	overdueFilterNote = "owner, patient, subject, focus, status, business-status, priority, requester, _id, _tag"
)

// SNOMED CT codes that make a ServiceRequest a dermatology referral: its
// performerType is the dermatology service or a dermatologist
// (../shared/domain/TELEDERMATOLOGY.md, "Coding").
const (
	snomed             = "http://snomed.info/sct"
	dermatologyService = "700241009"
	dermatologistRole  = "18803008"
	performerTypeParam = "performer-type"
	referralFilterNote = "patient, subject, requester, performer, priority, category, code, status, encounter, identifier, _id, _tag, _security"
	adviceFilterNote   = "patient, subject, based-on, performer, category, code, conclusion, encounter, identifier, _id, _tag, _security"
)

var (
	referralFilters = strings.Split(strings.ReplaceAll(referralFilterNote, " ", ""), ",")
	adviceFilters   = strings.Split(strings.ReplaceAll(adviceFilterNote, " ", ""), ",")
	overdueFilters  = strings.Split(strings.ReplaceAll(overdueFilterNote, " ", ""), ",")
)

// topicSet is every topic, by canonical URL, workflow topics first.
type topicSet struct {
	base  string
	list  []*Topic
	byURL map[string]*Topic
}

// Interactions of the generic resource-change topics.
var interactions = []struct{ name, verb string }{
	{"create", "created"}, {"update", "updated"}, {"delete", "deleted"},
}

// notTopics are types no topic is offered for: Subscription (the server's
// own status writes would notify about themselves) and AuditEvent (kept
// outside the store, so it has no change log).
var notTopics = map[string]bool{"Subscription": true, "AuditEvent": true}

func newTopics(base string) *topicSet {
	ts := &topicSet{base: base, byURL: map[string]*Topic{}}
	add := func(t *Topic) {
		t.URL = base + topicPath + t.Name
		ts.list = append(ts.list, t)
		ts.byURL[t.URL] = t
	}
	add(&Topic{Name: TopicReferralSubmitted, Type: "ServiceRequest", Filters: referralFilters,
		Title:   "a dermatology referral (ServiceRequest, performerType dermatology) is submitted: created active, or made active",
		trigger: referralSubmitted})
	add(&Topic{Name: TopicReferralStatusChanged, Type: "ServiceRequest", Filters: referralFilters,
		Title: "the status of a dermatology referral changes", trigger: referralStatusChanged})
	add(&Topic{Name: TopicAdviceIssued, Type: "DiagnosticReport", Filters: adviceFilters,
		Title:   "advice is issued: a DiagnosticReport based on a ServiceRequest becomes final (or is amended or corrected)",
		trigger: adviceIssued})
	add(&Topic{Name: TopicReferralOverdue, Type: "Task", Filters: overdueFilters,
		Title:   "a referral is overdue: its Task passed its due date without advice (tagged referral-flag#overdue)",
		trigger: referralOverdue})
	for _, typ := range fhir.ResourceTypes() {
		if notTopics[typ] {
			continue
		}
		for _, in := range interactions {
			in := in
			add(&Topic{Name: typ + "-" + in.name, Type: typ,
				Title: "a " + typ + " is " + in.verb,
				trigger: func(c *change) (bool, error) {
					got, err := c.interaction()
					return got == in.name, err
				}})
		}
	}
	return ts
}

// lookup finds a topic by canonical URL (a "|version" suffix is ignored:
// topics here have one version).
func (ts *topicSet) lookup(url string) (*Topic, bool) {
	url, _, _ = strings.Cut(url, "|")
	t, ok := ts.byURL[url]
	return t, ok
}

// referralSubmitted: a dermatology ServiceRequest whose status is active
// now and was not before (created active, or a draft made active).
func referralSubmitted(c *change) (bool, error) {
	if c.v.Deleted || !isDermatology(c.entries) || tokenValue(c.entries, "status") != "active" {
		return false, nil
	}
	prev, err := c.previous()
	if err != nil || prev == nil {
		return prev == nil && err == nil, err
	}
	return tokenValue(prev.entries, "status") != "active" || !isDermatology(prev.entries), nil
}

// referralStatusChanged: an update of a dermatology ServiceRequest that
// changed its status.
func referralStatusChanged(c *change) (bool, error) {
	if c.v.Deleted || !isDermatology(c.entries) {
		return false, nil
	}
	prev, err := c.previous()
	if err != nil || prev == nil {
		return false, err
	}
	return tokenValue(prev.entries, "status") != tokenValue(c.entries, "status"), nil
}

// adviceIssued: a DiagnosticReport based on a ServiceRequest whose status
// became final, amended or corrected (each a new issue of the advice).
func adviceIssued(c *change) (bool, error) {
	if c.v.Deleted || !basedOnServiceRequest(c.entries) {
		return false, nil
	}
	status := tokenValue(c.entries, "status")
	if status != "final" && status != "amended" && status != "corrected" {
		return false, nil
	}
	prev, err := c.previous()
	if err != nil || prev == nil {
		return prev == nil && err == nil, err
	}
	return tokenValue(prev.entries, "status") != status, nil
}

// referralOverdue: a Task that now carries the overdue flag and did not
// before.
func referralOverdue(c *change) (bool, error) {
	if c.v.Deleted || !hasTag(c.entries, overdueFlagSystem, overdueFlagCode) {
		return false, nil
	}
	prev, err := c.previous()
	if err != nil || prev == nil {
		return prev == nil && err == nil, err
	}
	return !hasTag(prev.entries, overdueFlagSystem, overdueFlagCode), nil
}

func hasTag(es []search.Entry, system, code string) bool {
	for _, e := range es {
		if e.Param == "_tag" && e.Kind == search.Token && e.System == system && e.Code == code {
			return true
		}
	}
	return false
}

func isDermatology(es []search.Entry) bool {
	for _, e := range es {
		if e.Param == performerTypeParam && e.Kind == search.Token && (e.System == snomed || e.System == "") &&
			(e.Code == dermatologyService || e.Code == dermatologistRole) {
			return true
		}
	}
	return false
}

func basedOnServiceRequest(es []search.Entry) bool {
	for _, e := range es {
		if e.Param == "based-on" && e.Kind == search.Reference && e.RefType == "ServiceRequest" {
			return true
		}
	}
	return false
}

// tokenValue is the first code indexed for a token parameter.
func tokenValue(es []search.Entry, param string) string {
	for _, e := range es {
		if e.Param == param && e.Kind == search.Token {
			return e.Code
		}
	}
	return ""
}
