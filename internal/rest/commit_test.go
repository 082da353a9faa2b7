package rest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/store/sqlite"
)

// stampHook marks every Basic it sees with a server-written code, adds a
// Basic "shadow-<id>" beside it, and refuses any Basic whose code text is
// "forbidden" with 409.
type stampHook struct{ commits int }

func (h *stampHook) BeforeCommit(ctx context.Context, c *Commit) error {
	h.commits++
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
	return New(repo, blobs, codec, Config{BaseURL: opsBase, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CommitHook: h})
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
