package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth"
	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// hook is a subscriber's endpoint: it keeps every notification body.
type hook struct {
	mu   sync.Mutex
	got  []string
	addr string
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = "http://" + ln.Addr().String() + "/notify"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, string(b))
		h.mu.Unlock()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

// waitFor waits until some notification mentions every one of want.
func (h *hook) waitFor(t *testing.T, what string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, n := range h.got {
			all := true
			for _, w := range want {
				all = all && strings.Contains(n, w)
			}
			if all {
				h.mu.Unlock()
				return
			}
		}
		h.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s notification mentioning %v arrived", what, want)
}

func subscription(base, topic, endpoint, filter string) string {
	return fmt.Sprintf(`{"resourceType":"Subscription","meta":{"profile":["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"]},
	  "status":"requested","reason":"workflow","criteria":"%s/SubscriptionTopic/%s",
	  "_criteria":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria","valueString":%q}]},
	  "channel":{"type":"rest-hook","endpoint":%q,"payload":"application/fhir+json",
	    "_payload":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content","valueCode":"id-only"}]}}}`,
		base, topic, filter, endpoint)
}

// tdm is the data model's canonical base (profiles/README.md).
const tdm = "https://telederm.example/fhir/"

// referralBundle is the transaction the referral app posts: the referral,
// three photos with their Binary content, the 7-point checklist with the
// given features present, consent, and the lesion as a Condition.
func referralBundle(patient string, present map[string]bool, reason string) string {
	features := []struct {
		code   string
		points int
	}{{"change-in-size", 2}, {"irregular-shape", 2}, {"irregular-colour", 2}, {"diameter-7mm", 1}, {"inflammation", 1}, {"oozing", 1}, {"change-in-sensation", 1}}
	score := 0
	var comps []string
	for _, f := range features {
		if present[f.code] {
			score += f.points
		}
		comps = append(comps, fmt.Sprintf(`{"code":{"coding":[{"system":"%sCodeSystem/seven-point-checklist","code":%q}]},"valueBoolean":%t}`, tdm, f.code, present[f.code]))
	}
	site := `{"coding":[{"system":"http://snomed.info/sct","code":"77568009","display":"Back structure, excluding neck"}]}`
	entries := []string{fmt.Sprintf(`{"fullUrl":"urn:uuid:sr","resource":{"resourceType":"ServiceRequest","status":"active","intent":"order",
	  "category":[{"coding":[{"system":"http://snomed.info/sct","code":"3457005","display":"Patient referral"}]}],
	  "code":{"coding":[{"system":"%sCodeSystem/request-type","code":"advice-and-guidance"}]},
	  "performerType":{"coding":[{"system":"http://snomed.info/sct","code":"18803008","display":"Dermatologist"}]},
	  "priority":"routine","subject":{"reference":%q},"requester":{"reference":"Practitioner/gp-1"},
	  "performer":[{"reference":"Organization/derm"}],
	  "authoredOn":"2026-03-02T09:00:00Z","reasonCode":[{"text":%q}],"reasonReference":[{"reference":"urn:uuid:lesion"}],"bodySite":[%s]},
	  "request":{"method":"POST","url":"ServiceRequest"}}`, tdm, patient, reason, site)}
	for i, view := range []string{"close-up", "regional", "dermoscopic"} {
		modality := "XC"
		if view == "dermoscopic" {
			modality = "DMS"
		}
		entries = append(entries,
			fmt.Sprintf(`{"fullUrl":"urn:uuid:bin-%d","resource":{"resourceType":"Binary","contentType":"image/jpeg","securityContext":{"reference":%q},"data":"/9j/4AAQSkZJRgABAQ=="},"request":{"method":"POST","url":"Binary"}}`, i, patient),
			fmt.Sprintf(`{"fullUrl":"urn:uuid:media-%d","resource":{"resourceType":"Media","status":"completed",
			  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/media-type","code":"image"}]},
			  "modality":{"coding":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":%q}]},
			  "view":{"coding":[{"system":"%sCodeSystem/photo-view","code":%q}]},
			  "subject":{"reference":%q},"basedOn":[{"reference":"urn:uuid:sr"}],"bodySite":%s,"width":4032,"height":3024,
			  "content":{"contentType":"image/jpeg","url":"urn:uuid:bin-%d"}},"request":{"method":"POST","url":"Media"}}`, i, modality, tdm, view, patient, site, i))
	}
	entries = append(entries,
		fmt.Sprintf(`{"fullUrl":"urn:uuid:checklist","resource":{"resourceType":"Observation","status":"final",
		  "code":{"coding":[{"system":"%sCodeSystem/seven-point-checklist","code":"checklist"}]},
		  "basedOn":[{"reference":"urn:uuid:sr"}],"subject":{"reference":%q},"valueInteger":%d,"component":[%s]},
		  "request":{"method":"POST","url":"Observation"}}`, tdm, patient, score, strings.Join(comps, ",")),
		fmt.Sprintf(`{"fullUrl":"urn:uuid:consent","resource":{"resourceType":"Consent","status":"active",
		  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"treatment"}]},
		  "category":[{"coding":[{"system":"%sCodeSystem/consent-type","code":"clinical-photography"}]}],
		  "patient":{"reference":%q},"dateTime":"2026-03-02T08:50:00Z",
		  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]}},
		  "request":{"method":"POST","url":"Consent"}}`, tdm, patient),
		fmt.Sprintf(`{"fullUrl":"urn:uuid:lesion","resource":{"resourceType":"Condition",
		  "code":{"coding":[{"system":"http://snomed.info/sct","code":"95324001","display":"Skin lesion"}]},"bodySite":[%s],"subject":{"reference":%q}},
		  "request":{"method":"POST","url":"Condition"}}`, site, patient))
	return `{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`
}

// TestReferralWorkflowEndToEnd follows one referral the whole way: the GP
// system registers a launch, the referral app triages and submits the
// referral with photos, the hospital is notified and works its worklist,
// the consultant's advice completes the referral, the GP system is
// notified and the app reads the advice back.
func TestReferralWorkflowEndToEnd(t *testing.T) {
	dir := t.TempDir()
	secrets := map[string]string{}
	for _, c := range []auth.ClientSpec{
		{ID: "hospital", Type: auth.ConfidentialSymmetric, Scopes: []string{"system/*.cruds"}, Launch: []string{auth.LaunchBackend}},
		{ID: "gp-system", Type: auth.ConfidentialSymmetric, Scopes: []string{"system/Subscription.cruds system/DiagnosticReport.rs"}, Launch: []string{auth.LaunchLauncher, auth.LaunchBackend}},
		{ID: "referral-app", Type: auth.Public, RedirectURIs: []string{appRedirect}, Scopes: []string{"launch openid fhirUser patient/*.cruds"}, Launch: []string{auth.LaunchEHR}},
	} {
		s, err := auth.AddClient(dir, c, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		secrets[c.ID] = s
	}
	base := servertest.Start(t, server.Config{DataDir: dir, Auth: "smart", SubscriptionsAllow: "127.0.0.1:*", ServiceOwner: "Organization/derm"})

	backend := func(client, scope string) string {
		r := req(t, http.MethodPost, base+"/auth/token", "grant_type=client_credentials&scope="+url.QueryEscape(scope), "application/x-www-form-urlencoded", "")
		r.SetBasicAuth(client, secrets[client])
		resp, tok := call(t, r)
		if resp.StatusCode != 200 {
			t.Fatalf("%s token: %d %v", client, resp.StatusCode, tok)
		}
		return tok["access_token"].(string)
	}
	hospital := backend("hospital", "system/*.cruds")
	gpSystem := backend("gp-system", "system/Subscription.cruds system/DiagnosticReport.rs")
	fhirCall := func(method, path, body, token string, want int) map[string]any {
		t.Helper()
		resp, out := call(t, req(t, method, base+"/"+path, body, "application/fhir+json", token))
		if resp.StatusCode != want {
			b, _ := json.Marshal(out)
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return out
	}

	// The region's reference data, as the hospital holds it.
	for _, r := range []struct{ path, body string }{
		{"Organization/derm", `{"resourceType":"Organization","id":"derm","name":"Dermatology, East Suffolk"}`},
		{"Organization/practice-1", `{"resourceType":"Organization","id":"practice-1","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"D83001"}],"name":"Riverside Surgery"}`},
		{"Practitioner/gp-1", `{"resourceType":"Practitioner","id":"gp-1","name":[{"family":"Okafor","prefix":["Dr"]}]}`},
		{"Practitioner/derm-1", `{"resourceType":"Practitioner","id":"derm-1","name":[{"family":"Lindqvist","prefix":["Dr"]}]}`},
		{"Patient/pat-1", `{"resourceType":"Patient","id":"pat-1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],
		  "name":[{"family":"Smith","given":["Ann"]}],"gender":"female","birthDate":"1961-04-12","generalPractitioner":[{"reference":"Organization/practice-1"}]}`},
		{"Patient/pat-2", `{"resourceType":"Patient","id":"pat-2","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9990000018"}],
		  "name":[{"family":"Jones","given":["Bob"]}],"gender":"male","birthDate":"1950-01-30","generalPractitioner":[{"reference":"Organization/practice-1"}]}`},
	} {
		fhirCall(http.MethodPut, r.path, r.body, hospital, http.StatusCreated)
	}

	// The hospital subscribes to new referrals; the GP system to advice for its patient.
	hospitalHook, gpHook := newHook(t), newHook(t)
	fhirCall(http.MethodPost, "Subscription", subscription(base, "referral-submitted", hospitalHook.addr, "ServiceRequest?performer=Organization/derm"), hospital, http.StatusCreated)
	fhirCall(http.MethodPost, "Subscription", subscription(base, "advice-issued", gpHook.addr, "DiagnosticReport?patient=Patient/pat-1"), gpSystem, http.StatusCreated)

	// A routine referral for another patient is already waiting.
	routine := fhirCall(http.MethodPost, "", referralBundle("Patient/pat-2", map[string]bool{"inflammation": true}, "Itchy scaly patch"), hospital, http.StatusOK)
	routineRef := entryLocation(t, routine, 0)

	// The GP system registers the launch; the referral app is authorized.
	r := req(t, http.MethodPost, base+"/auth/launch", `{"patient_identifier":"https://fhir.nhs.uk/Id/nhs-number|9434765919","fhirUser":"Practitioner/gp-1"}`, "application/json", "")
	r.SetBasicAuth("gp-system", secrets["gp-system"])
	resp, launch := call(t, r)
	if resp.StatusCode != 201 {
		t.Fatalf("launch: %d %v", resp.StatusCode, launch)
	}
	verifier := strings.Repeat("w", 50)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"referral-app"}, "redirect_uri": {appRedirect}, "launch": {launch["launch"].(string)},
		"scope": {"launch openid fhirUser patient/*.cruds"}, "state": {"s1"}, "aud": {base},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, _ = call(t, req(t, http.MethodGet, base+"/auth/authorize?"+q.Encode(), "", "", ""))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {appRedirect},
		"client_id": {"referral-app"}, "code_verifier": {verifier}}
	resp, tok := call(t, req(t, http.MethodPost, base+"/auth/token", form.Encode(), "application/x-www-form-urlencoded", ""))
	if resp.StatusCode != 200 || tok["patient"] != "pat-1" {
		t.Fatalf("app token: %d %v", resp.StatusCode, tok)
	}
	app := tok["access_token"].(string)

	// The app asks for triage before sending: a changing, irregular lesion
	// scores 6 and is on the suspected-cancer pathway.
	lesion := map[string]bool{"change-in-size": true, "irregular-shape": true, "irregular-colour": true}
	bundle := referralBundle("Patient/pat-1", lesion, "Changing pigmented lesion, 9 mm")
	triage := fhirCall(http.MethodPost, "ServiceRequest/$triage", bundle, app, http.StatusOK)
	if p := parameter(triage, "pathway"); !strings.Contains(p, "suspected-cancer") || parameter(triage, "score") != "6" {
		t.Fatalf("$triage: pathway %s score %s", p, parameter(triage, "score"))
	}

	// The app submits; the server triages, prioritises and opens the Task.
	submitted := fhirCall(http.MethodPost, "", bundle, app, http.StatusOK)
	srRef := entryLocation(t, submitted, 0)
	srID := strings.TrimPrefix(srRef, "ServiceRequest/")
	sr := fhirCall(http.MethodGet, srRef, "", app, http.StatusOK)
	if sr["priority"] != "asap" || !strings.Contains(mustMarshal(sr), tdm+"StructureDefinition/triage-result") {
		t.Errorf("submitted referral not triaged: %s", mustMarshal(sr))
	}
	hospitalHook.waitFor(t, "referral-submitted", srRef)

	// The consultant's worklist: the fast-track referral first, with its
	// patient, photos and checklist in the same Bundle.
	wl := fhirCall(http.MethodGet, "Task/$worklist", "", hospital, http.StatusOK)
	var matches []string
	included := map[string]int{}
	for _, e := range wl["entry"].([]any) {
		em := e.(map[string]any)
		res := em["resource"].(map[string]any)
		if em["search"].(map[string]any)["mode"] == "match" {
			matches = append(matches, fmt.Sprint(res["focus"].(map[string]any)["reference"]))
		} else {
			included[res["resourceType"].(string)]++
		}
	}
	if len(matches) != 2 || matches[0] != srRef || matches[1] != routineRef {
		t.Errorf("worklist order %v, want the fast-track %s before the routine %s", matches, srRef, routineRef)
	}
	if included["Patient"] != 2 || included["Media"] != 6 || included["Observation"] != 2 || included["ServiceRequest"] != 2 {
		t.Errorf("worklist includes %v, want both patients, 6 photos, 2 checklists, 2 referrals", included)
	}

	// The consultant starts the review and sends advice.
	task := fhirCall(http.MethodGet, "Task/"+srID, "", hospital, http.StatusOK)
	task["status"] = "in-progress"
	fhirCall(http.MethodPut, "Task/"+srID, mustMarshal(task), hospital, http.StatusOK)
	advice := fmt.Sprintf(`{"resourceType":"DiagnosticReport","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"11488-4","display":"Consult note"}]},
	  "basedOn":[{"reference":%q}],"subject":{"reference":"Patient/pat-1"},"performer":[{"reference":"Practitioner/derm-1"}],
	  "issued":%q,"conclusion":"Features of melanoma; seen in the fast-track clinic this week.",
	  "conclusionCode":[{"coding":[{"system":"%sCodeSystem/advice-outcome","code":"urgent-suspected-cancer"}]}]}`, srRef, time.Now().UTC().Format(time.RFC3339), tdm)
	dr := fhirCall(http.MethodPost, "DiagnosticReport", advice, hospital, http.StatusCreated)
	task = fhirCall(http.MethodGet, "Task/"+srID, "", hospital, http.StatusOK)
	if task["status"] != "completed" || !strings.Contains(mustMarshal(task["businessStatus"]), "converted-to-appointment") ||
		task["executionPeriod"].(map[string]any)["end"] == nil {
		t.Errorf("Task after advice: %s", mustMarshal(task))
	}
	if sr := fhirCall(http.MethodGet, srRef, "", app, http.StatusOK); sr["status"] != "completed" {
		t.Errorf("referral after advice: %v", sr["status"])
	}
	gpHook.waitFor(t, "advice-issued", "DiagnosticReport/"+dr["id"].(string))

	// The GP's app reads the advice with one search.
	found := fhirCall(http.MethodGet, "DiagnosticReport?based-on="+srRef, "", app, http.StatusOK)
	if found["total"] != float64(1) || !strings.Contains(mustMarshal(found), "fast-track clinic") {
		t.Errorf("advice search: %s", mustMarshal(found))
	}

	// The service's numbers count it: two submitted, one answered on the
	// day with the urgent outcome, one fast-tracked.
	st := fhirCall(http.MethodGet, "ServiceRequest/$stats", "", hospital, http.StatusOK)
	if parameter(st, "submitted") != "2" || parameter(st, "answered") != "1" || parameter(st, "open") != "1" {
		t.Errorf("$stats volumes: %s", mustMarshal(st))
	}
	var outcome, fastTrack string
	for _, x := range st["parameter"].([]any) {
		xm := x.(map[string]any)
		switch xm["name"] {
		case "outcome":
			if strings.Contains(mustMarshal(xm), "urgent-suspected-cancer") {
				outcome = mustMarshal(xm)
			}
		case "fast-track":
			fastTrack = mustMarshal(xm)
		}
	}
	if !strings.Contains(outcome, `"valueInteger":1`) || !strings.Contains(fastTrack, `"valueInteger":1`) {
		t.Errorf("$stats outcome %s, fast-track %s; want one each", outcome, fastTrack)
	}
	// The referral app, confined to its patient, may not read the region's numbers.
	if resp, _ := call(t, req(t, http.MethodGet, base+"/ServiceRequest/$stats", "", "", app)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("$stats with a patient token: %d, want 403", resp.StatusCode)
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// entryLocation is the Type/id a transaction response entry created.
func entryLocation(t *testing.T, bundle map[string]any, i int) string {
	t.Helper()
	e := bundle["entry"].([]any)[i].(map[string]any)
	loc := e["response"].(map[string]any)["location"].(string)
	parts := strings.Split(loc, "/")
	for j := range parts {
		if parts[j] == "_history" {
			return parts[j-2] + "/" + parts[j-1]
		}
	}
	t.Fatalf("entry %d location %q", i, loc)
	return ""
}

// parameter is a Parameters parameter's value, as text.
func parameter(p map[string]any, name string) string {
	for _, x := range p["parameter"].([]any) {
		xm := x.(map[string]any)
		if xm["name"] != name {
			continue
		}
		for k, v := range xm {
			if strings.HasPrefix(k, "value") {
				return mustMarshal(v)
			}
		}
	}
	return ""
}
