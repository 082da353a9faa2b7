package subscription_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

func referral(id, status, patient, performerCode string) string {
	return fmt.Sprintf(`{"resourceType":"ServiceRequest","id":%q,"status":%q,"intent":"order",
		"subject":{"reference":"Patient/%s"},
		"performerType":{"coding":[{"system":"http://snomed.info/sct","code":%q}]}}`, id, status, patient, performerCode)
}

func advice(id, status, patient, referral string) string {
	return fmt.Sprintf(`{"resourceType":"DiagnosticReport","id":%q,"status":%q,"code":{"text":"advice"},
		"subject":{"reference":"Patient/%s"},"basedOn":[{"reference":"ServiceRequest/%s"}]}`, id, status, patient, referral)
}

func task(id, status string, overdue bool) string {
	tag := ""
	if overdue {
		tag = `"meta":{"tag":[{"system":"https://telederm.example/fhir/CodeSystem/referral-flag","code":"overdue"}]},`
	}
	return fmt.Sprintf(`{"resourceType":"Task",%s"id":%q,"status":%q,"intent":"order"}`, tag, id, status)
}

func put(t *testing.T, base, typ, id, body string) {
	t.Helper()
	if status, out := fhirCall(t, http.MethodPut, base+"/"+typ+"/"+id, body); status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("PUT %s/%s: %d %v", typ, id, status, out)
	}
}

// The teledermatology workflow topics fire on the clinical events they
// name, and not on the changes around them.
func TestWorkflowTopics(t *testing.T) {
	base := startServer(t, fastTiming(time.Minute))
	submitted, changed, issued, overdue := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	mustCreate(t, base, "Subscription", topicSubscription(base, "referral-submitted", submitted.url(), "id-only", "filter:ServiceRequest?patient=Patient/p1"))
	mustCreate(t, base, "Subscription", topicSubscription(base, "referral-status-changed", changed.url(), "id-only"))
	mustCreate(t, base, "Subscription", topicSubscription(base, "advice-issued", issued.url(), "id-only", "filter:patient=Patient/p1"))
	mustCreate(t, base, "Subscription", topicSubscription(base, "referral-overdue", overdue.url(), "id-only"))
	for _, rc := range []*receiver{submitted, changed, issued, overdue} {
		waitFor(t, 10*time.Second, "handshakes", func() bool { return len(rc.accepted(t)) >= 1 })
	}
	const derm, cardio = "700241009", "394579002"
	put(t, base, "ServiceRequest", "sr1", referral("sr1", "draft", "p1", derm))    // a draft: nothing yet
	put(t, base, "ServiceRequest", "sr1", referral("sr1", "active", "p1", derm))   // submitted; status changed
	put(t, base, "ServiceRequest", "sr2", referral("sr2", "active", "p2", derm))   // submitted, but for p2
	put(t, base, "ServiceRequest", "sr3", referral("sr3", "active", "p1", cardio)) // not dermatology
	put(t, base, "ServiceRequest", "sr1", referral("sr1", "active", "p1", derm)+"")
	put(t, base, "ServiceRequest", "sr1", referral("sr1", "completed", "p1", derm))    // status changed
	put(t, base, "DiagnosticReport", "dr1", advice("dr1", "preliminary", "p1", "sr1")) // not issued yet
	put(t, base, "DiagnosticReport", "dr1", advice("dr1", "final", "p1", "sr1"))       // issued
	put(t, base, "DiagnosticReport", "dr1", advice("dr1", "amended", "p1", "sr1"))     // issued again
	put(t, base, "DiagnosticReport", "dr2", advice("dr2", "final", "p2", "sr2"))       // for p2
	put(t, base, "Task", "t1", task("t1", "requested", false))
	put(t, base, "Task", "t1", task("t1", "requested", true))   // overdue
	put(t, base, "Task", "t1", task("t1", "in-progress", true)) // still overdue: not again
	put(t, base, "Task", "t2", task("t2", "requested", true))   // created overdue
	put(t, base, "ServiceRequest", "marker", referral("marker", "draft", "p9", derm))
	put(t, base, "ServiceRequest", "marker", referral("marker", "active", "p9", derm)) // status change: the last event

	waitFor(t, 10*time.Second, "the last status change", func() bool {
		for _, n := range changed.accepted(t) {
			for _, f := range n.Foci {
				if f == base+"/ServiceRequest/marker" {
					return true
				}
			}
		}
		return false
	})
	time.Sleep(100 * time.Millisecond)
	foci := func(rc *receiver) []string {
		var out []string
		for _, n := range rc.accepted(t) {
			for _, f := range n.Foci {
				out = append(out, f[len(base)+1:])
			}
		}
		return out
	}
	if got, want := foci(submitted), []string{"ServiceRequest/sr1"}; !slices.Equal(got, want) {
		t.Errorf("referral-submitted: %v, want %v", got, want)
	}
	if got, want := foci(changed), []string{"ServiceRequest/sr1", "ServiceRequest/sr1", "ServiceRequest/marker"}; !slices.Equal(got, want) {
		t.Errorf("referral-status-changed: %v, want %v", got, want)
	}
	if got, want := foci(issued), []string{"DiagnosticReport/dr1", "DiagnosticReport/dr1"}; !slices.Equal(got, want) {
		t.Errorf("advice-issued: %v, want %v", got, want)
	}
	if got, want := foci(overdue), []string{"Task/t1", "Task/t2"}; !slices.Equal(got, want) {
		t.Errorf("referral-overdue: %v, want %v", got, want)
	}
}
