package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// outcome is what one interaction answers one grant: a status and, for a
// Bundle, the resources in it ("-" for a status without a Bundle check).
type outcome struct {
	status int
	refs   string // comma-separated Type/id, sorted; "" for an empty Bundle
}

// parseOutcomes reads "none=200:Observation/o1,... patient=404 ..." and
// insists on every grant, so that no row leaves a grant untried.
func parseOutcomes(t *testing.T, spec string) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	for _, f := range strings.Fields(spec) {
		name, rest, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("bad spec field %q", f)
		}
		code, refs, hasRefs := strings.Cut(rest, ":")
		n, err := strconv.Atoi(code)
		if err != nil {
			t.Fatalf("bad status in %q", f)
		}
		o := outcome{status: n, refs: "-"}
		if hasRefs {
			o.refs = refs
		}
		out[name] = o
	}
	for _, g := range grantNames {
		if _, ok := out[g]; !ok {
			t.Fatalf("spec %q has no outcome for grant %s", spec, g)
		}
	}
	return out
}

// interaction is one call of the Service.
type interaction func(ctx context.Context, s *Service) Response

// authzRow is one interaction tried with every grant; letter is the scope
// letter it needs (what the noletter grant lacks). Rows that write get a
// fresh world for each grant.
type authzRow struct {
	name   string
	letter byte
	writes bool
	run    interaction
	want   string
}

func TestScopesEveryInteractionAndGrant(t *testing.T) {
	all := "Observation/o1,Observation/o1v,Observation/o2"
	rows := []authzRow{
		// Reads: a patient-confined token gets 404 for another patient's
		// resource, as for one that does not exist; a type outside the
		// Patient compartment is refused (403) before any lookup.
		{"read own", 'r', false, readOf("Observation", "o1"),
			"none=200 patient=200 user=200 system=200 granular=200 wrongtype=403 noletter=403"},
		{"read other patient's", 'r', false, readOf("Observation", "o2"),
			"none=200 patient=404 user=200 system=200 granular=404 wrongtype=403 noletter=403"},
		{"read outside the constraint", 'r', false, readOf("Observation", "o1v"),
			"none=200 patient=200 user=200 system=200 granular=404 wrongtype=403 noletter=403"},
		{"read outside the compartment", 'r', false, readOf("Practitioner", "dr"),
			"none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
		{"vread other patient's", 'r', false, func(ctx context.Context, s *Service) Response { return s.VRead(ctx, "Observation", "o2", "1") },
			"none=200 patient=404 user=200 system=200 granular=404 wrongtype=403 noletter=403"},
		{"history of other patient's", 'r', false, func(ctx context.Context, s *Service) Response { return s.History(ctx, "Observation", "o2", nil) },
			"none=200 patient=404 user=200 system=200 granular=404 wrongtype=403 noletter=403"},
		{"history of own", 'r', false, func(ctx context.Context, s *Service) Response { return s.History(ctx, "Observation", "o1", nil) },
			"none=200:Observation/o1 patient=200:Observation/o1 user=200:Observation/o1 system=200:Observation/o1 granular=200:Observation/o1 wrongtype=403 noletter=403"},
		{"$meta of other patient's", 'r', false, func(ctx context.Context, s *Service) Response { return s.Meta(ctx, "Observation", "o2") },
			"none=200 patient=404 user=200 system=200 granular=404 wrongtype=403 noletter=403"},
		{"Binary content of other patient's", 'r', false, func(ctx context.Context, s *Service) Response { return s.ReadBinaryContent(ctx, "b2") },
			"none=200 patient=404 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
		{"Binary content through its securityContext", 'r', false, func(ctx context.Context, s *Service) Response { return s.ReadBinaryContent(ctx, "bm") },
			"none=200 patient=200 user=200 system=200 granular=403 wrongtype=403 noletter=403"},

		// Searches: confined to the compartment and the constraint. A
		// chain would test resources beyond them, so a confined token may
		// not chain at all.
		{"search type", 's', false, searchOf("Observation", ""),
			"none=200:" + all + " patient=200:Observation/o1,Observation/o1v user=200:" + all + " system=200:" + all +
				" granular=200:Observation/o1 wrongtype=403 noletter=403"},
		{"_include outside the compartment", 's', false, searchOf("Observation", "_include=Observation:performer"),
			"none=200:" + all + ",Practitioner/dr patient=200:Observation/o1,Observation/o1v user=200:" + all + ",Practitioner/dr system=200:" + all + ",Practitioner/dr" +
				" granular=200:Observation/o1 wrongtype=403 noletter=403"},
		{"_revinclude", 's', false, searchOf("Patient", "_revinclude=Observation:subject"),
			"none=200:" + all + ",Patient/p1,Patient/p2 patient=200:Observation/o1,Observation/o1v,Patient/p1 user=200:" + all + ",Patient/p1,Patient/p2" +
				" system=200:" + all + ",Patient/p1,Patient/p2 granular=200:Observation/o1,Patient/p1 wrongtype=403 noletter=403"},
		{"chain to another patient", 's', false, searchOf("Observation", "subject:Patient.name=Two"),
			"none=200:Observation/o2 patient=403 user=200:Observation/o2 system=200:Observation/o2 granular=403 wrongtype=403 noletter=403"},
		{"chain through a type the token may not search", 's', false, searchOf("Observation", "performer:Practitioner.name=Doctor"),
			"none=200:Observation/o1 patient=403 user=200:Observation/o1 system=200:Observation/o1 granular=403 wrongtype=403 noletter=403"},
		{"system search", 's', false, searchOf("", "_type=Observation,Condition"),
			"none=200:Condition/c1," + all + " patient=200:Condition/c1,Observation/o1,Observation/o1v user=200:Condition/c1," + all +
				" system=200:Condition/c1," + all + " granular=403 wrongtype=403 noletter=403"},
		{"other patient's compartment", 's', false, func(ctx context.Context, s *Service) Response {
			return s.CompartmentSearch(ctx, "Patient", "p2", "Observation", nil, SearchOptions{})
		}, "none=200:Observation/o2 patient=200: user=200:Observation/o2 system=200:Observation/o2 granular=200: wrongtype=403 noletter=403"},
		{"type history", 's', false, func(ctx context.Context, s *Service) Response { return s.History(ctx, "Observation", "", nil) },
			"none=200:" + all + " patient=200:Observation/o1,Observation/o1v user=200:" + all + " system=200:" + all +
				" granular=200:Observation/o1 wrongtype=403 noletter=403"},
		{"$everything of own", 's', false, everything("p1"),
			"none=200:Binary/bm,Condition/c1,Media/m1,Observation/o1,Observation/o1v,Patient/p1,Practitioner/dr" +
				" patient=200:Binary/bm,Condition/c1,Media/m1,Observation/o1,Observation/o1v,Patient/p1" +
				" user=200:Binary/bm,Condition/c1,Media/m1,Observation/o1,Observation/o1v,Patient/p1,Practitioner/dr" +
				" system=200:Binary/bm,Condition/c1,Media/m1,Observation/o1,Observation/o1v,Patient/p1,Practitioner/dr" +
				" granular=200:Observation/o1,Patient/p1 wrongtype=200:Condition/c1 noletter=403"},
		{"$everything of other patient", 's', false, everything("p2"),
			"none=200 patient=404 user=200 system=200 granular=404 wrongtype=200: noletter=403"},
		{"search Binary", 's', false, searchOf("Binary", ""),
			"none=200:Binary/b2,Binary/bm patient=403 user=200:Binary/b2,Binary/bm system=200:Binary/b2,Binary/bm granular=403 wrongtype=403 noletter=403"},
		{"$meta across a type", 's', false, func(ctx context.Context, s *Service) Response { return s.Meta(ctx, "Observation", "") },
			"none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},

		// Writes: the target and the version written must both be within
		// the scopes; nothing is written otherwise.
		{"create own", 'c', true, create(obsJSON("", "p1", "laboratory")),
			"none=201 patient=201 user=201 system=201 granular=201 wrongtype=403 noletter=403"},
		{"create outside the constraint", 'c', true, create(obsJSON("", "p1", "vital-signs")),
			"none=201 patient=201 user=201 system=201 granular=403 wrongtype=403 noletter=403"},
		{"create for another patient", 'c', true, create(obsJSON("", "p2", "laboratory")),
			"none=201 patient=403 user=201 system=201 granular=403 wrongtype=403 noletter=403"},
		{"update own", 'u', true, update("o1", obsJSON("o1", "p1", "laboratory")),
			"none=200 patient=200 user=200 system=200 granular=200 wrongtype=403 noletter=403"},
		{"update moving other's data in", 'u', true, update("o2", obsJSON("o2", "p1", "laboratory")),
			"none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
		{"update moving own data out", 'u', true, update("o1", obsJSON("o1", "p2", "laboratory")),
			"none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
		{"patch other patient's", 'u', true, func(ctx context.Context, s *Service) Response {
			return s.PatchJSON(ctx, "Observation", "o2", []byte(`[{"op":"replace","path":"/status","value":"amended"}]`), "")
		}, "none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
		{"$meta-add to other patient's", 'u', true, func(ctx context.Context, s *Service) Response {
			return s.MetaAdd(ctx, "Observation", "o2", []byte(`{"resourceType":"Parameters","parameter":[{"name":"meta","valueMeta":{"tag":[{"system":"urn:t","code":"x"}]}}]}`))
		}, "none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
		{"delete other patient's", 'd', true, func(ctx context.Context, s *Service) Response { return s.Delete(ctx, "Observation", "o2", "") },
			"none=204 patient=403 user=204 system=204 granular=403 wrongtype=403 noletter=403"},
		{"delete own", 'd', true, func(ctx context.Context, s *Service) Response { return s.Delete(ctx, "Observation", "o1", "") },
			"none=204 patient=204 user=204 system=204 granular=204 wrongtype=403 noletter=403"},
		{"create AuditEvent", 'c', true, create(`{"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2024-01-01T00:00:00Z","agent":[{"requestor":true}],"source":{"observer":{"display":"x"}}}`),
			"none=405 patient=405 user=405 system=405 granular=405 wrongtype=405 noletter=405"},
		// $validate reads nothing: create or update on the type suffices,
		// so lacking only c still validates (through u).
		{"$validate", 'c', false, func(ctx context.Context, s *Service) Response {
			return s.Validate(ctx, "Observation", "", []byte(obsJSON("", "p1", "laboratory")), nil)
		}, "none=200 patient=200 user=200 system=200 granular=200 wrongtype=403 noletter=200"},
		{"transaction writing for another patient", 'c', true, bundleOf("transaction", obsJSON("", "p1", "laboratory"), obsJSON("", "p2", "laboratory")),
			"none=200 patient=403 user=200 system=200 granular=403 wrongtype=403 noletter=403"},
	}
	shared := newScopeWorld(t)
	for _, row := range rows {
		want := parseOutcomes(t, row.want)
		for _, g := range grantNames {
			t.Run(row.name+"/"+g, func(t *testing.T) {
				s := shared
				if row.writes {
					s = newScopeWorld(t)
				}
				got := row.run(grantCtx(t, t.Context(), g, row.letter), s)
				w := want[g]
				if got.Status != w.status {
					t.Fatalf("status %d, want %d: %.400s", got.Status, w.status, got.Body)
				}
				if got.Status == http.StatusForbidden && !strings.Contains(diagnostics(t, got.Body), "forbidden") {
					t.Errorf("403 without a forbidden issue: %s", got.Body)
				}
				if w.refs != "-" {
					if refs := strings.Join(bundleRefs(t, got.Body), ","); refs != w.refs {
						t.Errorf("bundle holds\n  %s\nwant\n  %s", refs, w.refs)
					}
				}
			})
		}
	}
}

func readOf(typ, id string) interaction {
	return func(ctx context.Context, s *Service) Response { return s.Read(ctx, typ, id) }
}

func searchOf(typ, query string) interaction {
	return func(ctx context.Context, s *Service) Response {
		q, err := url.ParseQuery(query)
		if err != nil {
			panic(err)
		}
		return s.Search(ctx, typ, q, SearchOptions{})
	}
}

func everything(id string) interaction {
	return func(ctx context.Context, s *Service) Response { return s.Everything(ctx, id, nil, nil) }
}

func create(body string) interaction {
	return func(ctx context.Context, s *Service) Response {
		return s.Create(ctx, resourceTypeOf(body), []byte(body))
	}
}

func update(id, body string) interaction {
	return func(ctx context.Context, s *Service) Response {
		return s.Update(ctx, "Observation", id, []byte(body), "")
	}
}

// bundleOf is a batch or transaction POSTing each resource.
func bundleOf(typ string, resources ...string) interaction {
	return func(ctx context.Context, s *Service) Response {
		var entries []string
		for _, r := range resources {
			entries = append(entries, fmt.Sprintf(`{"resource":%s,"request":{"method":"POST","url":%q}}`, r, resourceTypeOf(r)))
		}
		body := `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
		return s.Bundle(ctx, []byte(body), BundleOptions{})
	}
}

// resourceTypeOf reads the resourceType the test bodies start with.
func resourceTypeOf(body string) string {
	return body[len(`{"resourceType":"`):strings.Index(body, `",`)]
}

// count is how many current resources of typ the store holds, read
// without a grant.
func count(t *testing.T, s *Service, typ string) int {
	t.Helper()
	r := s.Search(t.Context(), typ, url.Values{"_summary": {"count"}}, SearchOptions{})
	var b struct{ Total int }
	if err := json.Unmarshal(r.Body, &b); err != nil || r.Status != http.StatusOK {
		t.Fatalf("count %s: %d %s", typ, r.Status, r.Body)
	}
	return b.Total
}

func TestTransactionDeniedEntryWritesNothing(t *testing.T) {
	s := newScopeWorld(t)
	before := count(t, s, "Observation")
	ctx := grantCtx(t, t.Context(), "patient", 0)
	r := bundleOf("transaction", obsJSON("", "p1", "laboratory"), obsJSON("", "p2", "laboratory"),
		`{"resourceType":"Binary","contentType":"image/jpeg","securityContext":{"reference":"Patient/p1"},"data":"bmV3"}`)(ctx, s)
	if r.Status != http.StatusForbidden {
		t.Fatalf("status %d, want 403: %s", r.Status, r.Body)
	}
	if d := diagnostics(t, r.Body); !strings.Contains(d, "@Bundle.entry[1]") || !strings.Contains(d, "Observation") {
		t.Errorf("the outcome does not name entry 1: %s", d)
	}
	if after := count(t, s, "Observation"); after != before {
		t.Errorf("%d Observations after the refused transaction, want %d", after, before)
	}
	if len(r.Touched) != 0 {
		t.Errorf("a refused transaction touched %v", r.Touched)
	}
}

func TestBatchDeniedEntryGetsItsOwn403(t *testing.T) {
	s := newScopeWorld(t)
	ctx := grantCtx(t, t.Context(), "patient", 0)
	r := bundleOf("batch", obsJSON("", "p1", "laboratory"), obsJSON("", "p2", "laboratory"),
		`{"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2024-01-01T00:00:00Z","agent":[{"requestor":true}],"source":{"observer":{"display":"x"}}}`)(ctx, s)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	if got := entryStatuses(t, r.Body); !slices.Equal(got, []string{"201", "403", "405"}) {
		t.Errorf("entry statuses %v, want [201 403 405]", got)
	}
	if len(r.Touched) != 1 || !strings.HasPrefix(r.Touched[0], "Observation/") {
		t.Errorf("touched %v, want the one Observation written", r.Touched)
	}
}

func TestTransactionReadEntryWithoutScopeFailsBeforeWriting(t *testing.T) {
	s := newScopeWorld(t)
	before := count(t, s, "Observation")
	ctx := withScopes(t, t.Context(), "user/Observation.c", "")
	body := `{"resourceType":"Bundle","type":"transaction","entry":[` +
		`{"resource":` + obsJSON("", "p1", "laboratory") + `,"request":{"method":"POST","url":"Observation"}},` +
		`{"request":{"method":"GET","url":"Condition/c1"}}]}`
	r := s.Bundle(ctx, []byte(body), BundleOptions{})
	if r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r.Body), "@Bundle.entry[1]") {
		t.Fatalf("status %d, want 403 naming entry 1: %s", r.Status, r.Body)
	}
	if after := count(t, s, "Observation"); after != before {
		t.Errorf("%d Observations after the refused transaction, want %d", after, before)
	}
}

// TestConditionalInteractionsSeeOnlyWhatTheTokenCanSearch: a conditional
// delete, create and a conditional reference inside a transaction match
// within the caller's compartment only.
func TestConditionalInteractionsSeeOnlyWhatTheTokenCanSearch(t *testing.T) {
	s := newScopeWorld(t)
	ctx := grantCtx(t, t.Context(), "patient", 0)
	if r := s.ConditionalDelete(ctx, "Observation", url.Values{"category": {"laboratory"}}); r.Status != http.StatusNoContent {
		t.Fatalf("conditional delete: %d %s", r.Status, r.Body)
	} else if !slices.Equal(r.Touched, []string{"Observation/o1"}) {
		t.Errorf("conditional delete touched %v, want only Observation/o1", r.Touched)
	}
	if r := s.Read(t.Context(), "Observation", "o2"); r.Status != http.StatusOK {
		t.Errorf("the other patient's Observation was deleted: %d", r.Status)
	}
	// If-None-Exist naming the other patient's Observation finds nothing
	// in this compartment, so a new one is created rather than o2 shown.
	r := s.ConditionalCreate(ctx, "Observation", []byte(obsJSON("", "p1", "vital-signs")), "_id=o2")
	if r.Status != http.StatusCreated {
		t.Errorf("conditional create over another patient's match: %d %s", r.Status, r.Body)
	}
	// A conditional reference resolves only within what the token can
	// search: Patient?name=Two is not found, so the transaction fails.
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},` +
		`"subject":{"reference":"Patient?name=Two"}},"request":{"method":"POST","url":"Observation"}}]}`
	if r := s.Bundle(ctx, []byte(tx), BundleOptions{}); r.Status != http.StatusPreconditionFailed {
		t.Errorf("conditional reference to another patient: %d %s", r.Status, r.Body)
	}
	if r := s.Bundle(t.Context(), []byte(tx), BundleOptions{}); r.Status != http.StatusOK {
		t.Errorf("the same transaction without a grant: %d %s", r.Status, r.Body)
	}
}

// TestUpdateThatCreates: update as create is allowed by the update letter
// (SMART's scope table), and a create is not.
func TestUpdateThatCreates(t *testing.T) {
	s := newScopeWorld(t)
	body := []byte(obsJSON("new1", "p1", "laboratory"))
	if r := s.Update(withScopes(t, t.Context(), "user/Observation.u", ""), "Observation", "new1", body, ""); r.Status != http.StatusCreated {
		t.Errorf("update as create with only u: %d %s", r.Status, r.Body)
	}
	r := s.Create(withScopes(t, t.Context(), "user/Observation.u", ""), "Observation", []byte(obsJSON("", "p1", "laboratory")))
	if r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r.Body), "create of Observation") {
		t.Errorf("create with only u: %d %s", r.Status, r.Body)
	}
	if r := s.Update(withScopes(t, t.Context(), "user/Observation.u", ""), "Observation", "o1", []byte(obsJSON("o1", "p1", "laboratory")), ""); r.Status != http.StatusOK {
		t.Errorf("update of an existing resource with u: %d %s", r.Status, r.Body)
	}
	if r := s.Update(withScopes(t, t.Context(), "user/Observation.c", ""), "Observation", "new2", []byte(obsJSON("new2", "p1", "laboratory")), ""); r.Status != http.StatusForbidden {
		t.Errorf("update as create with only c: %d %s", r.Status, r.Body)
	}
}

// TestGranularScopesCombine: several constrained scopes of one parameter
// are ORed into the search; scopes that cannot be combined ask the client
// to narrow its search, and one that does is answered.
func TestGranularScopesCombine(t *testing.T) {
	s := newScopeWorld(t)
	tests := []struct {
		scopes, query string
		status        int
		refs          string
	}{
		{"patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs", "", 200, "Observation/o1,Observation/o1v"},
		{"user/Observation.rs?category=laboratory", "", 200, "Observation/o1,Observation/o2"},
		{"user/Observation.rs?category=laboratory patient/Observation.rs", "", 403, ""},
		{"user/Observation.rs?category=laboratory patient/Observation.rs", "category=laboratory", 200, "Observation/o1,Observation/o2"},
		{"user/Observation.rs?category=laboratory user/Observation.rs", "", 200, "Observation/o1,Observation/o1v,Observation/o2"},
		{"user/Observation.rs?nonsense=1", "", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.scopes+"?"+tt.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			r := s.Search(withScopes(t, t.Context(), tt.scopes, "p1"), "Observation", q, SearchOptions{})
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
			if r.Status == http.StatusOK {
				if got := strings.Join(bundleRefs(t, r.Body), ","); got != tt.refs {
					t.Errorf("got %s, want %s", got, tt.refs)
				}
			}
		})
	}
}

// TestTouched: the resources each interaction read, wrote or returned.
func TestTouched(t *testing.T) {
	s := newScopeWorld(t)
	ctx := grantCtx(t, t.Context(), "patient", 0)
	tests := []struct {
		name string
		run  interaction
		want []string
	}{
		{"read", readOf("Observation", "o1"), []string{"Observation/o1"}},
		{"denied read", readOf("Observation", "o2"), nil},
		{"search with include", searchOf("Observation", "_id=o1&_include=Observation:subject"), []string{"Observation/o1", "Patient/p1"}},
		{"history", func(ctx context.Context, s *Service) Response { return s.History(ctx, "Observation", "o1", nil) }, []string{"Observation/o1"}},
		{"update", update("o1v", obsJSON("o1v", "p1", "vital-signs")), []string{"Observation/o1v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.run(ctx, s).Touched
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("touched %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPatientScopeWithoutPatient: patient/ scopes on a token with no
// patient in context reach no one, and the 403 says why.
func TestPatientScopeWithoutPatient(t *testing.T) {
	s := newScopeWorld(t)
	r := s.Read(withScopes(t, t.Context(), "patient/*.rs", ""), "Observation", "o1")
	if r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r.Body), "need a patient in context") {
		t.Errorf("read: %d %s", r.Status, r.Body)
	}
}

// TestAuditEventNeedsExplicitScope: a * scope does not reach the audit
// trail; the refusal says so.
func TestAuditEventNeedsExplicitScope(t *testing.T) {
	s := newScopeWorld(t)
	r := s.Search(withScopes(t, t.Context(), "system/*.rs", ""), "AuditEvent", nil, SearchOptions{})
	if r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r.Body), "a * scope does not reach the audit trail") {
		t.Errorf("search: %d %s", r.Status, r.Body)
	}
	if r := s.Search(withScopes(t, t.Context(), "system/AuditEvent.rs", ""), "AuditEvent", nil, SearchOptions{}); r.Status != http.StatusOK {
		t.Errorf("search with an explicit scope: %d %s", r.Status, r.Body)
	}
}

// TestTransactionBinaryThroughSecurityContext: a patient token may write a
// photo (Binary) whose securityContext is a Media of its patient created
// in the same transaction, and not one pointing at another patient's.
func TestTransactionBinaryThroughSecurityContext(t *testing.T) {
	s := newScopeWorld(t)
	ctx := grantCtx(t, t.Context(), "patient", 0)
	tx := func(mediaSubject string) Response {
		body := `{"resourceType":"Bundle","type":"transaction","entry":[` +
			`{"fullUrl":"urn:uuid:6f1c2a4e-0000-4000-8000-000000000001","resource":{"resourceType":"Media","status":"completed","subject":{"reference":"Patient/` + mediaSubject + `"},` +
			`"content":{"contentType":"image/jpeg","url":"urn:uuid:6f1c2a4e-0000-4000-8000-000000000002"}},"request":{"method":"POST","url":"Media"}},` +
			`{"fullUrl":"urn:uuid:6f1c2a4e-0000-4000-8000-000000000002","resource":{"resourceType":"Binary","contentType":"image/jpeg",` +
			`"securityContext":{"reference":"urn:uuid:6f1c2a4e-0000-4000-8000-000000000001"},"data":"cGhvdG8="},"request":{"method":"POST","url":"Binary"}}]}`
		return s.Bundle(ctx, []byte(body), BundleOptions{})
	}
	r := tx("p1")
	if r.Status != http.StatusOK {
		t.Fatalf("own photo: %d %s", r.Status, r.Body)
	}
	if len(r.Touched) != 2 {
		t.Errorf("touched %v, want the Media and the Binary", r.Touched)
	}
	for _, ref := range r.Touched {
		if typ, id, _ := strings.Cut(ref, "/"); typ == "Binary" {
			if got := s.ReadBinaryContent(ctx, id); got.Status != http.StatusOK || string(got.Body) != "photo" {
				t.Errorf("reading the photo back: %d %q", got.Status, got.Body)
			}
		}
	}
	before := count(t, s, "Binary")
	if r := tx("p2"); r.Status != http.StatusForbidden {
		t.Errorf("a photo of another patient's Media: %d %s", r.Status, r.Body)
	}
	if after := count(t, s, "Binary"); after != before {
		t.Errorf("%d Binaries after the refused transaction, want %d", after, before)
	}
}

// TestSystemHistoryShowsOnlyWhatTheTokenMaySearch: the history of the
// whole system is screened version by version.
func TestSystemHistoryShowsOnlyWhatTheTokenMaySearch(t *testing.T) {
	s := newScopeWorld(t)
	if r := s.Delete(t.Context(), "Observation", "o2", ""); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	tests := []struct{ grant, want string }{
		{"patient", "Binary/bm,Condition/c1,Media/m1,Observation/o1,Observation/o1v,Patient/p1"},
		{"granular", "Observation/o1,Patient/p1"},
		{"wrongtype", "Condition/c1"},
		{"none", "Binary/b2,Binary/bm,Condition/c1,Media/m1,Observation/o1,Observation/o1v,Observation/o2,Patient/p1,Patient/p2,Practitioner/dr"},
	}
	for _, tt := range tests {
		r := s.History(grantCtx(t, t.Context(), tt.grant, 's'), "", "", url.Values{"_count": {"100"}})
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", tt.grant, r.Status, r.Body)
		}
		// The deletion of o2 carries no resource; count entries by URL.
		var b struct {
			Entry []struct{ FullURL string }
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range b.Entry {
			got = append(got, strings.TrimPrefix(e.FullURL, opsBase+"/"))
		}
		slices.Sort(got)
		if g := strings.Join(slices.Compact(got), ","); g != tt.want {
			t.Errorf("%s: %s, want %s", tt.grant, g, tt.want)
		}
	}
	// user/*.crud has no search letter at all.
	if r := s.History(grantCtx(t, t.Context(), "noletter", 's'), "", "", nil); r.Status != http.StatusForbidden {
		t.Errorf("no search letter: %d, want 403", r.Status)
	}
}

func TestValidateNeedsCreateOrUpdate(t *testing.T) {
	s := newScopeWorld(t)
	r := s.Validate(withScopes(t, t.Context(), "user/Observation.rs", ""), "Observation", "", []byte(obsJSON("", "p1", "laboratory")), nil)
	if r.Status != http.StatusForbidden || !strings.Contains(diagnostics(t, r.Body), "$validate of Observation needs") {
		t.Errorf("rs only: %d %s", r.Status, r.Body)
	}
	// mode=delete of another patient's resource reports it absent.
	r = s.Validate(grantCtx(t, t.Context(), "patient", 0), "Observation", "o2", nil, url.Values{"mode": {"delete"}})
	if r.Status != http.StatusOK || !strings.Contains(diagnostics(t, r.Body), "does not exist") {
		t.Errorf("mode=delete of another patient's: %d %s", r.Status, r.Body)
	}
}
