package rest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/access"
)

// scopeWorld is two patients' records. p1: laboratory Observation o1
// (performer Practitioner dr), vital-signs Observation o1v, Condition c1,
// Media m1 whose photo is Binary bm (securityContext Media/m1). p2:
// laboratory Observation o2 and Binary b2 (securityContext Patient/p2).
var scopeWorld = []struct{ typ, id, body string }{
	{"Patient", "p1", `{"resourceType":"Patient","id":"p1","name":[{"family":"One"}]}`},
	{"Patient", "p2", `{"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]}`},
	{"Practitioner", "dr", `{"resourceType":"Practitioner","id":"dr","name":[{"family":"Doctor"}]}`},
	{"Observation", "o1", obsJSON("o1", "p1", "laboratory")},
	{"Observation", "o1v", obsJSON("o1v", "p1", "vital-signs")},
	{"Observation", "o2", obsJSON("o2", "p2", "laboratory")},
	{"Condition", "c1", `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}}`},
	{"Media", "m1", `{"resourceType":"Media","id":"m1","status":"completed","subject":{"reference":"Patient/p1"},"content":{"contentType":"image/jpeg","url":"Binary/bm"}}`},
	{"Binary", "bm", `{"resourceType":"Binary","id":"bm","contentType":"image/jpeg","securityContext":{"reference":"Media/m1"},"data":"cGhvdG8="}`},
	{"Binary", "b2", `{"resourceType":"Binary","id":"b2","contentType":"image/jpeg","securityContext":{"reference":"Patient/p2"},"data":"b3RoZXI="}`},
}

// obsJSON is an Observation of a category about a patient; o1 names its
// performer.
func obsJSON(id, patient, category string) string {
	idPart := ""
	if id != "" {
		idPart = `"id":"` + id + `",`
	}
	performer := ""
	if id == "o1" {
		performer = `,"performer":[{"reference":"Practitioner/dr"}]`
	}
	return `{"resourceType":"Observation",` + idPart + `"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"` +
		category + `"}]}],"code":{"text":"x"},"subject":{"reference":"Patient/` + patient + `"}` + performer + `}`
}

// newScopeWorld is a Service holding scopeWorld, written without a grant.
func newScopeWorld(t *testing.T) *Service {
	t.Helper()
	s := newOpsService(t)
	for _, r := range scopeWorld {
		put(t, s, r.typ, r.id, r.body)
	}
	return s
}

// grantNames are the grants every interaction is tried with.
var grantNames = []string{"none", "patient", "user", "system", "granular", "wrongtype", "noletter"}

// grantCtx is ctx carrying the named grant; letter is the interaction
// letter the "noletter" grant lacks (it has every other one).
func grantCtx(t *testing.T, ctx context.Context, name string, letter byte) context.Context {
	t.Helper()
	var scopes, patient string
	switch name {
	case "none":
		return ctx // authorization off
	case "patient":
		scopes, patient = "launch/patient patient/*.cruds", "p1"
	case "user":
		scopes = "openid fhirUser user/*.cruds"
	case "system":
		scopes = "system/*.cruds"
	case "granular":
		scopes, patient = "patient/Observation.cruds?category=laboratory patient/Patient.rs", "p1"
	case "wrongtype":
		scopes = "user/Condition.cruds"
	case "noletter":
		scopes = "user/*." + strings.ReplaceAll("cruds", string(letter), "")
	default:
		t.Fatalf("unknown grant %q", name)
	}
	return withScopes(t, ctx, scopes, patient)
}

func withScopes(t testing.TB, ctx context.Context, scopes, patient string) context.Context {
	t.Helper()
	sc, err := access.ParseScopes(scopes)
	if err != nil {
		t.Fatal(err)
	}
	return access.NewContext(ctx, &access.Grant{ClientID: "test", Scopes: sc, Patient: patient})
}

// bundleRefs lists the Type/id of a Bundle's entries with a resource,
// sorted and without repeats (history pages repeat resources).
func bundleRefs(t *testing.T, body []byte) []string {
	t.Helper()
	var b struct {
		ResourceType string
		Entry        []struct {
			FullURL  string          `json:"fullUrl"`
			Resource json.RawMessage `json:"resource"`
			Search   *struct{ Mode string }
		}
	}
	if err := json.Unmarshal(body, &b); err != nil || b.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle: %.300s", body)
	}
	out := []string{}
	for _, e := range b.Entry {
		if e.Resource == nil || (e.Search != nil && e.Search.Mode == "outcome") {
			continue
		}
		out = append(out, strings.TrimPrefix(e.FullURL, opsBase+"/"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// entryStatuses lists a batch- or transaction-response's entry statuses.
func entryStatuses(t *testing.T, body []byte) []string {
	t.Helper()
	var b struct {
		Entry []struct {
			Response struct{ Status string }
		}
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("not a Bundle: %.300s", body)
	}
	var out []string
	for _, e := range b.Entry {
		code, _, _ := strings.Cut(e.Response.Status, " ")
		out = append(out, code)
	}
	return out
}

// diagnostics is an OperationOutcome's issues' diagnostics and
// expressions, for messages and checks.
func diagnostics(t *testing.T, body []byte) string {
	t.Helper()
	var o struct {
		ResourceType string
		Issue        []struct {
			Code, Diagnostics string
			Expression        []string
		}
	}
	if err := json.Unmarshal(body, &o); err != nil || o.ResourceType != "OperationOutcome" {
		t.Fatalf("not an OperationOutcome: %.300s", body)
	}
	var parts []string
	for _, is := range o.Issue {
		parts = append(parts, is.Code+": "+is.Diagnostics+" @"+strings.Join(is.Expression, ","))
	}
	return strings.Join(parts, " | ")
}
