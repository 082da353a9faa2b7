package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// stampHook marks every Basic it sees with a server-written code, adds a
// Basic "shadow-<id>" beside it, and refuses any Basic whose code text is
// "forbidden" with 409.
type stampHook struct {
	commits int
	// docs counts the changes the hook saw with a Doc; a Doc that is not
	// its Body decoded is an error.
	docs int
}

func (h *stampHook) BeforeCommit(ctx context.Context, c *Commit) error {
	h.commits++
	for _, ch := range c.Changes() {
		if ch.Doc == nil {
			continue
		}
		h.docs++
		if enc, err := fhir.EncodeResource(ch.Doc); err != nil || string(enc) != string(ch.Body) {
			return fmt.Errorf("%s/%s: Doc encodes as %s (%v), Body is %s", ch.Type, ch.ID, enc, err, ch.Body)
		}
	}
	n := len(c.Changes())
	for i := 0; i < n; i++ {
		ch := c.Changes()[i]
		if ch.Type != "Basic" || ch.Deleted || strings.HasPrefix(ch.ID, "shadow-") {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(ch.Body, &doc); err != nil {
			return err
		}
		if code, _ := doc["code"].(map[string]any); code["text"] == "forbidden" {
			return &Refusal{Status: http.StatusConflict, Outcome: fhir.NewOutcome(fhir.SeverityError, fhir.CodeBusinessRule, "forbidden transition", "Basic.code")}
		}
		doc["code"] = map[string]any{"text": "stamped"}
		body, _ := json.Marshal(doc)
		if err := c.Replace(i, body); err != nil {
			return err
		}
		if cur, err := c.Current(ctx, "Basic", ch.ID); err != nil || !strings.Contains(string(cur.Body), "stamped") {
			return err
		}
		shadow := `{"resourceType":"Basic","code":{"text":"shadow of ` + ch.ID + `"}}`
		if _, err := c.Put(ctx, "Basic", "shadow-"+ch.ID, []byte(shadow)); err != nil {
			return err
		}
	}
	return nil
}

func newCommitHookService(t *testing.T, h CommitHook) *Service {
	t.Helper()
	return newTestService(t, Config{CommitHook: h})
}

// The hook's rewrite is what is stored and returned, its additions are
// committed with the write (on the single and the transaction path, and
// again on update), its refusal writes nothing and carries its status.
func TestCommitHook(t *testing.T) {
	h := &stampHook{}
	s := newCommitHookService(t, h)
	ctx := t.Context()
	paths := []struct {
		name, id string
		do       func() Response
	}{
		{"update as create", "a", func() Response {
			return s.Update(ctx, "Basic", "a", []byte(`{"resourceType":"Basic","id":"a","code":{"text":"client"}}`), "")
		}},
		{"update", "a", func() Response {
			return s.Update(ctx, "Basic", "a", []byte(`{"resourceType":"Basic","id":"a","code":{"text":"again"}}`), "")
		}},
		{"transaction", "b", func() Response {
			return s.Bundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Basic","id":"b","code":{"text":"client"}},"request":{"method":"PUT","url":"Basic/b"}}]}`), BundleOptions{})
		}},
	}
	for _, tt := range paths {
		r := tt.do()
		if !r.OK() || !strings.Contains(string(r.Body), "stamped") {
			t.Fatalf("%s: %d %s, want the stamped body back", tt.name, r.Status, r.Body)
		}
		if got := s.Read(ctx, "Basic", tt.id); !strings.Contains(string(got.Body), "stamped") {
			t.Errorf("%s: stored %s, want stamped", tt.name, got.Body)
		}
		if got := s.Read(ctx, "Basic", "shadow-"+tt.id); got.Status != http.StatusOK {
			t.Errorf("%s: the hook's addition: %d %s", tt.name, got.Status, got.Body)
		}
	}
	if h.docs < len(paths) {
		t.Errorf("the hook saw %d changes with a Doc, want one per path at least", h.docs)
	}
	if v := s.Read(ctx, "Basic", "shadow-a"); !strings.Contains(string(v.Body), `"versionId":"2"`) {
		t.Errorf("the second write of a should update shadow-a to version 2: %s", v.Body)
	}
	found, err := s.SystemSearch(ctx, "Basic", url.Values{"code:text": {"shadow"}})
	if err != nil || len(found) != 2 {
		t.Errorf("SystemSearch found %d (%v), want the 2 shadows", len(found), err)
	}

	forbidden := `{"resourceType":"Basic","id":"f","code":{"text":"forbidden"}}`
	for name, r := range map[string]Response{
		"update":      s.Update(ctx, "Basic", "f", []byte(forbidden), ""),
		"create":      s.Create(ctx, "Basic", []byte(forbidden)),
		"transaction": s.Bundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":`+forbidden+`,"request":{"method":"PUT","url":"Basic/f"}}]}`), BundleOptions{}),
	} {
		if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "forbidden transition") {
			t.Errorf("%s refused: %d %s, want 409 with the hook's outcome", name, r.Status, r.Body)
		}
	}
	if r := s.Read(ctx, "Basic", "f"); r.Status != http.StatusNotFound {
		t.Errorf("a refused commit wrote Basic/f: %d", r.Status)
	}
}

// amendHook amends the Basic being written and a stored Basic "other".
type amendHook struct{}

func (amendHook) BeforeCommit(ctx context.Context, c *Commit) error {
	ch := c.Changes()[0]
	if ch.Type != "Basic" || ch.ID == "other" {
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal(ch.Body, &doc); err != nil {
		return err
	}
	doc["code"] = map[string]any{"text": "amended <&>"}
	if err := c.Amend(ctx, "Basic", ch.ID, doc); err != nil {
		return err
	}
	other, err := c.Current(ctx, "Basic", "other")
	if err != nil {
		return err
	}
	var od map[string]any
	if err := json.Unmarshal(other.Body, &od); err != nil {
		return err
	}
	od["code"] = map[string]any{"text": "touched by " + ch.ID}
	if err := c.Amend(ctx, "Basic", "other", od); err != nil {
		return err
	}
	return c.Amend(ctx, "Basic", "nope", map[string]any{"resourceType": "Patient", "id": "nope"})
}

// Amend rewrites the commit's own version and adds a version of a stored
// resource, with meta and index entries the server's; it refuses a body
// for another resource.
func TestCommitAmend(t *testing.T) {
	s := newCommitHookService(t, nil)
	ctx := t.Context()
	if r := s.Update(ctx, "Basic", "other", []byte(`{"resourceType":"Basic","id":"other","code":{"text":"plain"}}`), ""); !r.OK() {
		t.Fatal(r.Status)
	}
	s.cfg.CommitHook = amendHook{}
	r := s.Update(ctx, "Basic", "a", []byte(`{"resourceType":"Basic","id":"a","code":{"text":"client"}}`), "")
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("a hook error (amend of a body for another resource) should fail the write: %d %s", r.Status, r.Body)
	}
	s.cfg.CommitHook = amendOnly{}
	r = s.Update(ctx, "Basic", "a", []byte(`{"resourceType":"Basic","id":"a","code":{"text":"client"}}`), "")
	if !r.OK() || !strings.Contains(string(r.Body), `"amended <&>"`) || !strings.Contains(string(r.Body), `"versionId":"1"`) {
		t.Fatalf("amended create: %d %s", r.Status, r.Body)
	}
	other := s.Read(ctx, "Basic", "other")
	if !strings.Contains(string(other.Body), "touched by a") || !strings.Contains(string(other.Body), `"versionId":"2"`) {
		t.Errorf("stored resource amended: %s", other.Body)
	}
	found, err := s.SystemSearch(ctx, "Basic", url.Values{"code:text": {"amended"}})
	if err != nil || len(found) != 1 {
		t.Errorf("the amended version is indexed: %d %v", len(found), err)
	}
}

// amendOnly is amendHook without the bad amend at the end.
type amendOnly struct{}

func (amendOnly) BeforeCommit(ctx context.Context, c *Commit) error {
	err := amendHook{}.BeforeCommit(ctx, c)
	if err != nil && strings.Contains(err.Error(), "nope") {
		return nil
	}
	return err
}

// racingHook amends Basic/task in every commit of a Basic other than task,
// and on its first call has Basic/task change after the amend (as another
// client's commit would), so that commit loses the race on Basic/task.
type racingHook struct {
	s     *Service
	calls int
}

func (h *racingHook) BeforeCommit(ctx context.Context, c *Commit) error {
	ch := c.Changes()[0]
	if ch.Type != "Basic" || ch.ID == "task" {
		return nil
	}
	h.calls++
	cur, err := c.Current(ctx, "Basic", "task")
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(cur.Body, &doc); err != nil {
		return err
	}
	doc["code"] = map[string]any{"text": "touched by " + ch.ID}
	if err := c.Amend(ctx, "Basic", "task", doc); err != nil {
		return err
	}
	if h.calls == 1 {
		if r := h.s.Update(ctx, "Basic", "task", []byte(`{"resourceType":"Basic","id":"task","code":{"text":"moved meanwhile"}}`), ""); !r.OK() {
			return fmt.Errorf("concurrent update: %d", r.Status)
		}
	}
	return nil
}

// A write whose commit loses the race on a resource the hook added (not on
// its own) is planned and hooked again: a create is not "an id that
// already exists", an If-Match update is not a 412.
func TestHookConflictOnAnotherResourceRetries(t *testing.T) {
	s := newCommitHookService(t, nil)
	ctx := t.Context()
	if r := s.Update(ctx, "Basic", "task", []byte(`{"resourceType":"Basic","id":"task","code":{"text":"new"}}`), ""); !r.OK() {
		t.Fatal(r.Status)
	}
	if r := s.Update(ctx, "Basic", "pinned", []byte(`{"resourceType":"Basic","id":"pinned","code":{"text":"v1"}}`), ""); !r.OK() {
		t.Fatal(r.Status)
	}
	for _, tc := range []struct {
		name  string
		write func() Response
		want  int
	}{
		{"create", func() Response {
			return s.Create(ctx, "Basic", []byte(`{"resourceType":"Basic","code":{"text":"advice"}}`))
		}, http.StatusCreated},
		{"update with If-Match", func() Response {
			return s.Update(ctx, "Basic", "pinned", []byte(`{"resourceType":"Basic","id":"pinned","code":{"text":"v2"}}`), `W/"1"`)
		}, http.StatusOK},
	} {
		h := &racingHook{s: s}
		s.cfg.CommitHook = h
		r := tc.write()
		if r.Status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.want)
		}
		if h.calls != 2 {
			t.Errorf("%s: the hook ran %d times, want 2 (the lost race, then the retry)", tc.name, h.calls)
		}
		s.cfg.CommitHook = nil
		if task := s.Read(ctx, "Basic", "task"); !strings.Contains(string(task.Body), "touched by") {
			t.Errorf("%s: Basic/task after the retry: %s", tc.name, task.Body)
		}
	}
}
