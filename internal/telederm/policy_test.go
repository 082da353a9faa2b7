package telederm

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
)

// userCtx is a user-level token for fhirUser with the given scopes.
func userCtx(t *testing.T, ctx context.Context, fhirUser, scopes string) context.Context {
	t.Helper()
	sc, err := access.ParseScopes(scopes)
	if err != nil {
		t.Fatal(err)
	}
	return access.NewContext(ctx, &access.Grant{ClientID: "app", Subject: fhirUser, FHIRUser: fhirUser, Scopes: sc, Expires: time.Now().Add(time.Hour)})
}

// A practice's users see their practice's referrals and nothing of
// another practice's; the dermatology service sees both; resources no
// referral owns stay visible; subscriptions follow the same rule.
func TestAccessPolicy(t *testing.T) {
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, _ := newWorkflowService(t, clk)
	ctx := t.Context()
	for _, r := range []struct{ typ, id, body string }{
		{"PractitionerRole", "gp-a", `{"resourceType":"PractitionerRole","id":"gp-a","practitioner":{"reference":"Practitioner/gp1"},"organization":{"reference":"Organization/practice-a"}}`},
		{"PractitionerRole", "gp-b", `{"resourceType":"PractitionerRole","id":"gp-b","practitioner":{"reference":"Practitioner/gp2"},"organization":{"reference":"Organization/practice-b"}}`},
		{"PractitionerRole", "derm-1", `{"resourceType":"PractitionerRole","id":"derm-1","practitioner":{"reference":"Practitioner/derm1"},"organization":{"reference":"Organization/derm"}}`},
		{"Observation", "bp", `{"resourceType":"Observation","id":"bp","status":"final","code":{"text":"blood pressure"}}`},
	} {
		if resp := svc.Update(ctx, r.typ, r.id, []byte(r.body), ""); !resp.OK() {
			t.Fatalf("%s/%s: %d %s", r.typ, r.id, resp.Status, resp.Body)
		}
	}
	// Referral pa from practice A's GP (via the role), pb from practice B's.
	for id, role := range map[string]string{"pa": "gp-a", "pb": "gp-b"} {
		tx := strings.Replace(string(referralTx(id, "active", "rash", true)), `"Practitioner/gp1"`, `"PractitionerRole/`+role+`"`, 1)
		if r := svc.Bundle(ctx, []byte(tx), rest.BundleOptions{}); !r.OK() {
			t.Fatalf("submit %s: %d %s", id, r.Status, r.Body)
		}
	}
	if got := accessOf(read(t, svc, "Task", "pa")); strings.Join(got, ",") != "Organization/practice-a,Organization/derm" {
		t.Fatalf("Task/pa labels %v", got)
	}
	scopes := "user/*.cruds"
	gpA := userCtx(t, ctx, "Practitioner/gp1", scopes)
	gpB := userCtx(t, ctx, "PractitionerRole/gp-b", scopes)
	derm := userCtx(t, ctx, "Practitioner/derm1", scopes)
	nobody := userCtx(t, ctx, "Practitioner/unknown", scopes)

	ids := func(r rest.Response) string {
		var out []string
		for _, e := range list(mustJSON(t, r.Body), "entry") {
			res := obj(e.(map[string]any), "resource")
			out = append(out, str(res, "resourceType")+"/"+str(res, "id"))
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		read map[string]int // Type/id -> status
		srs  string         // ServiceRequest?_sort=_id
	}{
		{"GP of practice A", gpA, map[string]int{"ServiceRequest/pa": 200, "ServiceRequest/pb": 404, "Task/pb": 404, "Media/x": 0, "Observation/bp": 200}, "ServiceRequest/pa"},
		{"GP of practice B", gpB, map[string]int{"ServiceRequest/pa": 404, "Task/pa": 404, "ServiceRequest/pb": 200}, "ServiceRequest/pb"},
		{"consultant of the service", derm, map[string]int{"ServiceRequest/pa": 200, "ServiceRequest/pb": 200, "Task/pb": 200}, "ServiceRequest/pa ServiceRequest/pb"},
		{"user of no practice", nobody, map[string]int{"ServiceRequest/pa": 404, "Observation/bp": 200}, ""},
	} {
		for ref, want := range tt.read {
			if want == 0 {
				continue
			}
			typ, id, _ := strings.Cut(ref, "/")
			if r := svc.Read(tt.ctx, typ, id); r.Status != want {
				t.Errorf("%s: read %s = %d, want %d", tt.name, ref, r.Status, want)
			}
		}
		r := svc.Search(tt.ctx, "ServiceRequest", url.Values{"_sort": {"_id"}}, rest.SearchOptions{})
		if got := ids(r); r.Status != http.StatusOK || got != tt.srs {
			t.Errorf("%s: ServiceRequest search %d %q, want %q", tt.name, r.Status, got, tt.srs)
		}
		// Includes are screened too: practice A's GP searching Tasks gets
		// only its own, and through _include only its referral.
		tr := svc.Search(tt.ctx, "Task", url.Values{"_include": {"Task:focus"}, "_sort": {"_id"}}, rest.SearchOptions{})
		if tt.ctx == gpA && ids(tr) != "Task/pa ServiceRequest/pa" {
			t.Errorf("%s: Task search with _include = %q", tt.name, ids(tr))
		}
	}
	// A photo the GP of practice A uploads for its referral later is
	// labelled too, and practice B cannot read it.
	up := svc.Create(gpA, "Media", []byte(`{"resourceType":"Media","status":"completed","basedOn":[{"reference":"ServiceRequest/pa"}],"content":{"contentType":"image/jpeg"}}`))
	if !up.OK() {
		t.Fatalf("upload: %d %s", up.Status, up.Body)
	}
	id := str(mustJSON(t, up.Body), "id")
	if r := svc.Read(gpB, "Media", id); r.Status != http.StatusNotFound {
		t.Errorf("practice B read practice A's new photo: %d", r.Status)
	}
	// Practice B may not write practice A's Task either.
	task := read(t, svc, "Task", "pa")
	task["status"] = "in-progress"
	if r := svc.Update(gpB, "Task", "pa", encode(task), ""); r.OK() {
		t.Errorf("practice B updated practice A's Task: %d", r.Status)
	}
	// Subscriptions ask MayRead: the same answer.
	for _, tt := range []struct {
		ctx  context.Context
		want bool
	}{{gpA, true}, {gpB, false}, {derm, true}} {
		cur := svc.Read(ctx, "ServiceRequest", "pa")
		ok, err := svc.MayRead(tt.ctx, versionOf(t, "ServiceRequest", "pa", cur.Body))
		if err != nil || ok != tt.want {
			t.Errorf("MayRead(ServiceRequest/pa) = %v, %v; want %v", ok, err, tt.want)
		}
	}
}

func versionOf(t *testing.T, typ, id string, body []byte) *store.Version {
	t.Helper()
	return &store.Version{Type: typ, ID: id, VersionID: 1, Body: body}
}
