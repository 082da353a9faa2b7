package rest

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// refuseRed refuses every Basic whose body mentions "red", and counts
// what it saw.
type refuseRed struct{ seen []string }

func (r *refuseRed) CheckWrite(_ context.Context, c store.Change) *fhir.Outcome {
	r.seen = append(r.seen, string(c.Method))
	if strings.Contains(string(c.Body), "red") {
		return fhir.NewOutcome(fhir.SeverityError, fhir.CodeValue, "no red allowed", "Basic.code")
	}
	return nil
}

func newHookedService(t *testing.T, wc WriteChecker) *Service {
	t.Helper()
	dir := t.TempDir()
	repo, err := sqlite.Open(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = repo.Close() })
	blobs, err := media.NewFileStore(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	return New(repo, blobs, codec, Config{BaseURL: opsBase, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WriteCheckers: map[string]WriteChecker{"Basic": wc}})
}

// Every write path runs the type's checker, and a refusal is a 422 that
// writes nothing; other types are not checked.
func TestWriteCheckerOnEveryPath(t *testing.T) {
	wc := &refuseRed{}
	s := newHookedService(t, wc)
	ctx := t.Context()
	red := `{"resourceType":"Basic","code":{"text":"red"}}`
	blue := `{"resourceType":"Basic","id":"b","code":{"text":"blue"}}`
	tx := func(entry string) []byte {
		return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + entry + `]}`)
	}
	refusals := []struct {
		name string
		do   func() Response
	}{
		{"create", func() Response { return s.Create(ctx, "Basic", []byte(red)) }},
		{"update", func() Response {
			return s.Update(ctx, "Basic", "r", []byte(strings.Replace(red, "{", `{"id":"r",`, 1)), "")
		}},
		{"conditional create", func() Response { return s.ConditionalCreate(ctx, "Basic", []byte(red), "_id=nothing") }},
		{"transaction", func() Response {
			return s.Bundle(ctx, tx(`{"resource":`+red+`,"request":{"method":"POST","url":"Basic"}}`), BundleOptions{})
		}},
	}
	for _, tt := range refusals {
		r := tt.do()
		if r.Status != 422 || !strings.Contains(string(r.Body), "no red allowed") {
			t.Errorf("%s: %d %s, want 422 with the checker's outcome", tt.name, r.Status, r.Body)
		}
	}
	if r := s.Bundle(ctx, tx(`{"resource":`+red+`,"request":{"method":"POST","url":"Basic"}}`), BundleOptions{}); !strings.Contains(string(r.Body), "Bundle.entry[0].resource.code") {
		t.Errorf("transaction refusal does not name the entry: %s", r.Body)
	}
	if r := s.Search(ctx, "Basic", nil, SearchOptions{}); !strings.Contains(string(r.Body), `"total":0`) {
		t.Fatalf("a refused write was stored: %s", r.Body)
	}
	// Accepted writes, then a patch that makes it red.
	put(t, s, "Basic", "b", blue)
	r := s.PatchJSON(ctx, "Basic", "b", []byte(`[{"op":"replace","path":"/code/text","value":"red"}]`), "")
	if r.Status != 422 {
		t.Errorf("patch to red: %d %s", r.Status, r.Body)
	}
	if r := s.Create(ctx, "Patient", []byte(`{"resourceType":"Patient","name":[{"text":"red"}]}`)); r.Status != 201 {
		t.Errorf("unchecked type: %d %s", r.Status, r.Body)
	}
	if len(wc.seen) < 6 {
		t.Errorf("checker saw %v", wc.seen)
	}
}

// MayRead follows the read rules: open without a grant, confined by a
// patient/ scope to the patient's compartment.
func TestMayRead(t *testing.T) {
	s := newOpsService(t)
	ctx := t.Context()
	put(t, s, "Patient", "p1", `{"resourceType":"Patient","id":"p1"}`)
	put(t, s, "Observation", "o1", `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`)
	put(t, s, "Observation", "o2", `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p2"}}`)
	scopes, _ := access.ParseScopes("patient/Observation.rs")
	confined := access.NewContext(ctx, &access.Grant{ClientID: "c", Patient: "p1", Scopes: scopes})
	for _, tt := range []struct {
		ctx  context.Context
		id   string
		want bool
	}{{ctx, "o2", true}, {confined, "o1", true}, {confined, "o2", false}} {
		v, err := s.repo.Current(ctx, "Observation", tt.id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.MayRead(tt.ctx, v)
		if err != nil || got != tt.want {
			t.Errorf("MayRead(%s) = %v, %v; want %v", tt.id, got, err, tt.want)
		}
	}
	other, _ := access.ParseScopes("patient/Condition.rs")
	v, _ := s.repo.Current(ctx, "Observation", "o1")
	if ok, _ := s.MayRead(access.NewContext(ctx, &access.Grant{Patient: "p1", Scopes: other}), v); ok {
		t.Error("MayRead without an Observation scope")
	}
}
