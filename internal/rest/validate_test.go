package rest

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestValidate(t *testing.T) {
	s := newOpsService(t)
	put(t, s, "Patient", "here", `{"resourceType":"Patient","id":"here"}`)
	put(t, s, "Patient", "gone", `{"resourceType":"Patient","id":"gone"}`)
	if r := s.Delete(t.Context(), "Patient", "gone", ""); !r.OK() {
		t.Fatalf("delete: %d", r.Status)
	}
	const (
		valid      = `{"resourceType":"Patient","active":true}`
		withID     = `{"resourceType":"Patient","id":"p1","active":true}`
		fourFaults = `{"resourceType":"Patient","foo":1,"gender":"hermaphrodite","birthDate":"1990-13-45","active":"yes"}`
	)
	info := "information informational"
	cases := []struct {
		name, typ, id, body, query string
		status                     int
		want                       []string // issues, as issues() renders them
	}{
		{"valid resource", "Patient", "", valid, "", 200, []string{info}},
		{"every fault at once", "Patient", "", fourFaults, "", 200, []string{
			"error code-invalid Patient.gender", "error structure Patient.foo",
			"error value Patient.active", "error value Patient.birthDate"}},
		{"create with an id warns", "Patient", "", withID, "mode=create", 200, []string{
			info, "warning value Patient.id"}},
		{"create without an id", "Patient", "", valid, "mode=create", 200, []string{info}},
		{"update without an id", "Patient", "", valid, "mode=update", 200, []string{"error required Patient.id"}},
		{"update, id differs from the URL", "Patient", "p2", withID, "mode=update", 200, []string{"error invalid Patient.id"}},
		{"update at the URL's id", "Patient", "p1", withID, "mode=update", 200, []string{info}},
		{"update faults and mode findings together", "Patient", "", `{"resourceType":"Patient","gender":"x"}`, "mode=update", 200, []string{
			"error code-invalid Patient.gender", "error required Patient.id"}},
		{"delete an existing resource", "Patient", "here", "", "mode=delete", 200, []string{info}},
		{"delete a missing resource", "Patient", "nobody", "", "mode=delete", 200, []string{"error not-found Patient.id"}},
		{"delete a deleted resource", "Patient", "gone", "", "mode=delete", 200, []string{"error deleted Patient.id"}},
		{"delete ignores the content", "Patient", "here", `{"resourceType":"Patient","gender":"x"}`, "mode=delete", 200, []string{info}},
		{"profile mode checks the stored resource", "Patient", "here", "", "mode=profile&profile=http://example.org/p", 200,
			[]string{"error not-supported profile"}},
		{"profile mode on a missing resource", "Patient", "nobody", "", "mode=profile&profile=http://example.org/p", 200,
			[]string{"error not-found Patient.id"}},
		{"unknown profile", "Patient", "", valid, "profile=http://example.org/StructureDefinition/x", 200, []string{
			"error not-supported profile"}},
		{"claimed profile not known", "Patient", "", `{"resourceType":"Patient","meta":{"profile":["http://example.org/p"]}}`, "", 200, []string{
			info, "warning not-supported Patient.meta.profile[0]"}},
		{"Parameters with resource and mode", "Patient", "", `{"resourceType":"Parameters","parameter":[
			{"name":"mode","valueCode":"update"},{"name":"resource","resource":{"resourceType":"Patient","active":true}}]}`, "", 200,
			[]string{"error required Patient.id"}},
		{"Parameters mode overrides the URL", "Patient", "", `{"resourceType":"Parameters","parameter":[
			{"name":"mode","valueCode":"create"},{"name":"resource","resource":{"resourceType":"Patient"}}]}`, "mode=update", 200,
			[]string{info}},
		{"Parameters with a profile", "Patient", "", `{"resourceType":"Parameters","parameter":[
			{"name":"profile","valueCanonical":"http://example.org/p"},{"name":"resource","resource":{"resourceType":"Patient"}}]}`, "", 200,
			[]string{"error not-supported profile"}},
		{"a Parameters resource is validated as itself", "Parameters", "", `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"y"}]}`, "", 200,
			[]string{info}},

		// The request itself is unusable.
		{"no body", "Patient", "", "", "", 400, []string{"error required"}},
		{"no body, mode update", "Patient", "p1", "", "mode=update", 400, []string{"error required"}},
		{"body not JSON", "Patient", "", `<Patient/>`, "", 400, []string{"error structure"}},
		{"unknown mode", "Patient", "", valid, "mode=merge", 400, []string{"error value mode"}},
		{"unknown mode in Parameters", "Patient", "", `{"resourceType":"Parameters","parameter":[
			{"name":"mode","valueCode":"merge"},{"name":"resource","resource":{"resourceType":"Patient"}}]}`, "", 400,
			[]string{"error value Parameters.parameter[0].valueCode"}},
		{"Parameters without a resource", "Patient", "", `{"resourceType":"Parameters","parameter":[{"name":"mode","valueCode":"create"}]}`, "", 400,
			[]string{"error required"}},
		{"Parameters with an unknown parameter", "Patient", "", `{"resourceType":"Parameters","parameter":[
			{"name":"resource","resource":{"resourceType":"Patient"}},{"name":"strict","valueBoolean":true}]}`, "", 400,
			[]string{"error not-supported Parameters.parameter[1].name"}},
		{"resource parameter without a resource", "Patient", "", `{"resourceType":"Parameters","parameter":[{"name":"resource"}]}`, "", 400,
			[]string{"error required Parameters.parameter[0].resource"}},
		{"type differs from the URL", "Observation", "", valid, "", 400, []string{"error invalid resourceType"}},
		{"no resourceType", "Patient", "", `{"active":true}`, "", 400, []string{"error required resourceType"}},
		{"unknown type in the URL", "Patientx", "", valid, "", 404, []string{"error not-supported"}},
		{"delete at type level", "Patient", "", `{"resourceType":"Patient","id":"here"}`, "mode=delete", 400, []string{"error required mode"}},
		{"profile mode at type level", "Patient", "", "", "mode=profile&profile=http://example.org/p", 400, []string{"error required mode"}},
		{"profile mode without a profile", "Patient", "here", "", "mode=profile", 400, []string{"error required profile"}},
		{"profile mode with a resource", "Patient", "here", `{"resourceType":"Patient"}`, "mode=profile&profile=http://example.org/p", 400,
			[]string{"error invalid"}},
		{"bad id in the URL", "Patient", "a b", "", "mode=delete", 400, []string{"error value Patient.id"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := s.Validate(t.Context(), tc.typ, tc.id, body, q)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if got := issues(t, r.Body); !slices.Equal(got, tc.want) {
				t.Errorf("issues\n got %q\nwant %q\n%s", got, tc.want, r.Body)
			}
		})
	}
}

// TestValidateWritesNothing: validating for create or update stores
// nothing, whatever the mode says.
func TestValidateWritesNothing(t *testing.T) {
	s := newOpsService(t)
	for _, mode := range []string{"", "create", "update"} {
		r := s.Validate(t.Context(), "Patient", "p1", []byte(`{"resourceType":"Patient","id":"p1"}`), url.Values{"mode": {mode}})
		if r.Status != http.StatusOK {
			t.Fatalf("mode %q: %d %s", mode, r.Status, r.Body)
		}
	}
	if r := s.Read(t.Context(), "Patient", "p1"); r.Status != http.StatusNotFound {
		t.Errorf("after $validate, read gives %d, want 404", r.Status)
	}
}
