package published

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/rest/resttest"
	"github.com/telederm/telederm/internal/store"
)

const (
	base = "https://telederm.example/fhir"
	tdm  = "https://telederm.example/fhir/"
)

var t0 = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

type fixture struct {
	repo store.Repository
	ix   *search.Indexer
	svc  *rest.Service // what clients reach, with the read-only checkers
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	svc, repo := resttest.New(t, rest.Config{BaseURL: base, WriteCheckers: WriteCheckers(), Now: func() time.Time { return t0.Add(time.Hour) }})
	return &fixture{repo: repo, ix: search.NewIndexer(nil, base), svc: svc}
}

func (f *fixture) install(t *testing.T, at time.Time) {
	t.Helper()
	if err := Install(t.Context(), f.repo, f.ix, at); err != nil {
		t.Fatal(err)
	}
}

// versions is how many versions _history shows of typ/id.
func (f *fixture) versions(t *testing.T, typ, id string) int {
	t.Helper()
	r := f.svc.History(t.Context(), typ, id, nil)
	if r.Status != 200 {
		t.Fatalf("history of %s/%s: %d %s", typ, id, r.Status, r.Body)
	}
	var b struct{ Entry []any }
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	return len(b.Entry)
}

// Every published resource is readable at its id, found by its url, and
// has one version; installing again with nothing changed writes nothing.
func TestInstallPublishesEveryResource(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.install(t, t0)
	if len(all()) < 30 {
		t.Fatalf("only %d published resources", len(all()))
	}
	for _, r := range all() {
		got := f.svc.Read(ctx, r.Type, r.ID)
		var doc struct {
			URL  string
			Meta struct{ VersionID, LastUpdated string }
		}
		if got.Status != 200 || json.Unmarshal(got.Body, &doc) != nil {
			t.Errorf("read %s/%s: %d %.200s", r.Type, r.ID, got.Status, got.Body)
			continue
		}
		if doc.URL != r.URL || doc.Meta.VersionID != "1" || doc.Meta.LastUpdated != "2025-03-03T09:00:00.000Z" {
			t.Errorf("%s/%s: url %s, meta %+v", r.Type, r.ID, doc.URL, doc.Meta)
		}
		found := f.svc.Search(ctx, r.Type, url.Values{"url": {r.URL}}, rest.SearchOptions{})
		if !strings.Contains(string(found.Body), `"total":1`) || !strings.Contains(string(found.Body), `"id":"`+r.ID+`"`) {
			t.Errorf("search %s?url=%s: %d %.300s", r.Type, r.URL, found.Status, found.Body)
		}
	}
	f.install(t, t0.Add(24*time.Hour))
	for _, r := range all() {
		if n := f.versions(t, r.Type, r.ID); n != 1 {
			t.Errorf("%s/%s has %d versions after a second install of the same content", r.Type, r.ID, n)
		}
	}
	// Searches the workflow relies on: the referral profile by type, a
	// ValueSet by the url a binding names.
	r := f.svc.Search(ctx, "StructureDefinition", url.Values{"type": {"ServiceRequest"}, "derivation": {"constraint"}}, rest.SearchOptions{})
	if !strings.Contains(string(r.Body), `"id":"telederm-referral"`) {
		t.Errorf("StructureDefinition?type=ServiceRequest: %.300s", r.Body)
	}
}

// A stored version that differs from what is published (an older
// release), or a deleted one, gets a new version; _history keeps the old.
func TestInstallReplacesChangedAndDeleted(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.install(t, t0)
	// An older release of the photo-view ValueSet, written underneath the
	// REST layer (whose checker would refuse it).
	old := f.svc.Read(ctx, "ValueSet", "photo-view")
	var doc map[string]any
	if err := json.Unmarshal(old.Body, &doc); err != nil {
		t.Fatal(err)
	}
	doc["description"] = "an older wording"
	c, err := render(f.ix, resource{Type: "ValueSet", ID: "photo-view"}, doc, 1, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tomb := store.Change{Type: "CodeSystem", ID: "photo-view", PrevVersion: 1, Version: 2, LastUpdated: t0.Add(time.Minute), Method: store.MethodDelete, Deleted: true}
	if err := f.repo.Commit(ctx, []store.Change{c, tomb}); err != nil {
		t.Fatal(err)
	}

	f.install(t, t0.Add(time.Hour))
	for _, id := range []struct{ typ, id string }{{"ValueSet", "photo-view"}, {"CodeSystem", "photo-view"}} {
		if n := f.versions(t, id.typ, id.id); n != 3 {
			t.Errorf("%s/%s: %d versions, want 3 (published, changed or deleted, published again)", id.typ, id.id, n)
		}
		r := f.svc.Read(ctx, id.typ, id.id)
		if r.Status != 200 || r.Version != 3 || strings.Contains(string(r.Body), "older wording") {
			t.Errorf("%s/%s after install: %d v%d %.200s", id.typ, id.id, r.Status, r.Version, r.Body)
		}
	}
	if n := f.versions(t, "ValueSet", "photo-modality"); n != 1 {
		t.Errorf("an unchanged ValueSet got %d versions", n)
	}
}

// Clients cannot write over a published resource on any of the four
// types; their own resources of those types are theirs to write.
func TestPublishedAreReadOnly(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.install(t, t0)
	for _, typ := range []string{"StructureDefinition", "ValueSet", "CodeSystem", "SearchParameter"} {
		i := slices.IndexFunc(all(), func(r resource) bool { return r.Type == typ })
		if i < 0 {
			t.Fatalf("nothing published of type %s", typ)
		}
		r := all()[i]
		got := f.svc.Update(ctx, typ, r.ID, r.Body, "")
		if got.Status != 422 || !strings.Contains(string(got.Body), "published by the server; read-only") ||
			!strings.Contains(string(got.Body), `"expression":["`+typ+`.id"]`) {
			t.Errorf("PUT %s/%s: %d %s", typ, r.ID, got.Status, got.Body)
		}
	}
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"ValueSet","id":"photo-view","status":"retired"},"request":{"method":"PUT","url":"ValueSet/photo-view"}}]}`
	if got := f.svc.Bundle(ctx, []byte(tx), rest.BundleOptions{}); got.Status != 422 {
		t.Errorf("transaction PUT of a published ValueSet: %d %s", got.Status, got.Body)
	}
	if n := f.versions(t, "ValueSet", "photo-view"); n != 1 {
		t.Errorf("a refused write left %d versions", n)
	}
	own := `{"resourceType":"ValueSet","id":"practice-codes","url":"https://practice.example/vs","status":"draft"}`
	if got := f.svc.Update(ctx, "ValueSet", "practice-codes", []byte(own), ""); got.Status != 201 {
		t.Errorf("a client's own ValueSet: %d %s", got.Status, got.Body)
	}

	// Deletions, on every path, are refused too; the client's own goes.
	deletes := []struct {
		name string
		run  func() rest.Response
	}{
		{"DELETE", func() rest.Response { return f.svc.Delete(ctx, "ValueSet", "photo-view", "") }},
		{"conditional DELETE", func() rest.Response {
			return f.svc.ConditionalDelete(ctx, "ValueSet", url.Values{"_id": {"photo-view"}})
		}},
		{"transaction DELETE", func() rest.Response {
			return f.svc.Bundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"ValueSet/photo-view"}}]}`), rest.BundleOptions{})
		}},
	}
	for _, d := range deletes {
		if got := d.run(); got.Status != 409 || !strings.Contains(string(got.Body), "cannot be deleted") {
			t.Errorf("%s of a published ValueSet: %d %s", d.name, got.Status, got.Body)
		}
	}
	if got := f.svc.Read(ctx, "ValueSet", "photo-view"); got.Status != 200 {
		t.Errorf("the published ValueSet after the refused deletions: %d", got.Status)
	}
	if got := f.svc.Delete(ctx, "ValueSet", "practice-codes", ""); got.Status != 204 {
		t.Errorf("DELETE of a client's own ValueSet: %d %s", got.Status, got.Body)
	}
}

// The CapabilityStatement lists each profile on the type it constrains,
// once, however often Advertise runs.
func TestAdvertise(t *testing.T) {
	caps := &fhir.Capabilities{}
	for _, typ := range []string{"Patient", "ServiceRequest", "Media", "Observation", "DiagnosticReport", "Task"} {
		caps.Resources = append(caps.Resources, fhir.ResourceCapability{Type: typ})
	}
	caps.Resources[0].SupportedProfiles = []string{"https://other.example/StructureDefinition/p"}
	Advertise(caps)
	Advertise(caps)
	want := map[string][]string{
		"Patient":          {"https://other.example/StructureDefinition/p", tdm + "StructureDefinition/telederm-patient"},
		"ServiceRequest":   {tdm + "StructureDefinition/telederm-referral"},
		"Media":            {tdm + "StructureDefinition/telederm-lesion-photo"},
		"Observation":      {tdm + "StructureDefinition/telederm-seven-point-checklist"},
		"DiagnosticReport": {tdm + "StructureDefinition/telederm-advice"},
		"Task":             nil,
	}
	for _, rc := range caps.Resources {
		if !slices.Equal(rc.SupportedProfiles, want[rc.Type]) {
			t.Errorf("%s: %v, want %v", rc.Type, rc.SupportedProfiles, want[rc.Type])
		}
	}
}
