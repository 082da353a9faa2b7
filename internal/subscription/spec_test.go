package subscription

import (
	"testing"
	"time"

	"github.com/telederm/telederm/internal/subscription/notify"
)

// What a Subscription's elements become: topic or criteria, filters in
// each accepted form, payload content defaults, channel extensions.
func TestParseSpec(t *testing.T) {
	m := New(Config{BaseURL: "http://telederm.test"})
	defer m.Close()
	topic := func(filter, channel string) string {
		return `{"resourceType":"Subscription","status":"requested","criteria":"http://telederm.test/SubscriptionTopic/referral-submitted",
			"_criteria":{"extension":[{"url":"` + extFilterCriteria + `","valueString":"` + filter + `"}]},"channel":` + channel + `}`
	}
	ws := `{"type":"websocket"}`
	tests := []struct {
		name, body  string
		topic       string
		content, mt string
		clauses     int
		heartbeat   time.Duration
		maxCount    int
		timeout     time.Duration
		headers     int
	}{
		{name: "R4 with payload", body: criteriaSubWith("Observation?code=x", `{"type":"rest-hook","endpoint":"https://h.example/x","payload":"application/fhir+json","header":["Authorization: Bearer t"]}`),
			content: notify.FullResource, mt: "application/fhir+json", clauses: 1, headers: 1},
		{name: "R4 without payload", body: criteriaSubWith("Observation", ws), content: notify.Empty, mt: "application/fhir+json"},
		{name: "topic, search form", body: topic("ServiceRequest?patient=Patient/1&status=active", ws), topic: TopicReferralSubmitted, content: notify.IDOnly, mt: "application/fhir+json", clauses: 2},
		{name: "topic, bare parameters", body: topic("patient=Patient/1", ws), topic: TopicReferralSubmitted, content: notify.IDOnly, mt: "application/fhir+json", clauses: 1},
		{name: "topic, the IG example's dot form", body: topic("ServiceRequest.patient=Patient/1", ws), topic: TopicReferralSubmitted, content: notify.IDOnly, mt: "application/fhir+json", clauses: 1},
		{name: "channel extensions", body: topic("patient=Patient/1", `{"type":"websocket","payload":"application/json; charset=utf-8","extension":[
			{"url":"`+extHeartbeatPeriod+`","valueUnsignedInt":30},{"url":"`+extMaxCount+`","valuePositiveInt":5},{"url":"`+extTimeout+`","valueUnsignedInt":7}],
			"_payload":{"extension":[{"url":"`+extPayloadContent+`","valueCode":"full-resource"}]}}`),
			topic: TopicReferralSubmitted, content: notify.FullResource, mt: "application/json; charset=utf-8", clauses: 1,
			heartbeat: 30 * time.Second, maxCount: 5, timeout: 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, issues := m.parseSpec([]byte(tt.body), 1)
			if len(issues) > 0 {
				t.Fatalf("issues %v", issues)
			}
			gotTopic := ""
			if s.Topic != nil {
				gotTopic = s.Topic.Name
			}
			if gotTopic != tt.topic || s.Content != tt.content || s.MIME != tt.mt || len(s.Query.Where) != tt.clauses ||
				s.Heartbeat != tt.heartbeat || s.MaxCount != tt.maxCount || s.Timeout != tt.timeout || len(s.Headers) != tt.headers {
				t.Errorf("spec topic %q content %s mime %q clauses %d heartbeat %s max %d timeout %s headers %d",
					gotTopic, s.Content, s.MIME, len(s.Query.Where), s.Heartbeat, s.MaxCount, s.Timeout, len(s.Headers))
			}
		})
	}
}

func criteriaSubWith(criteria, channel string) string {
	return `{"resourceType":"Subscription","status":"requested","criteria":"` + criteria + `","channel":` + channel + `}`
}
