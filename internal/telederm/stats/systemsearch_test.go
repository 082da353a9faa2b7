package stats

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store/sqlite"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

// TestLoadWithSystemSearch runs Load against the real search (strict
// parsing, SQLite) with more referrals than a page, written at a clock
// that gives some of them one _lastUpdated, so the parameters Load sends
// are known to the registry and the paging holds.
func TestLoadWithSystemSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2,400 resources")
	}
	ctx := context.Background()
	dir := t.TempDir()
	repo, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	blobs, err := media.NewFileStore(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	now := mon
	svc := rest.New(repo, blobs, codec, rest.Config{BaseURL: "http://x.example", Now: func() time.Time { return now }})
	create := func(r Resource) string {
		delete(r, "id")
		body, _ := json.Marshal(r)
		resp := svc.Create(ctx, r["resourceType"].(string), body)
		if !resp.OK() {
			t.Fatalf("create %s: %d %s", r["resourceType"], resp.Status, resp.Body)
		}
		var out Resource
		_ = json.Unmarshal(resp.Body, &out)
		return out["id"].(string)
	}
	org := create(Resource{"resourceType": "Organization", "name": "Practice A"})
	role := create(Resource{"resourceType": "PractitionerRole", "organization": map[string]any{"reference": "Organization/" + org}})
	const n = 1100
	for i := range n {
		now = mon.Add(time.Duration(i/4) * time.Second) // four to a timestamp
		id := create(sr("x", now, requester("PractitionerRole/"+role)))
		create(task(id, now))
		if i%2 == 0 {
			create(advice(id, now.Add(time.Hour), "advice-only"))
		}
	}
	in, err := Load(ctx, svc.SystemSearch)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Referrals) != n || len(in.Tasks) != n || len(in.Reports) != n/2 || len(in.Roles) != 1 {
		t.Fatalf("loaded %d referrals, %d tasks, %d reports, %d roles; want %d, %d, %d, 1", len(in.Referrals), len(in.Tasks), len(in.Reports), len(in.Roles), n, n, n/2)
	}
	r := Compute(in, workdays.Default(), Query{Practice: "Organization/" + org})
	if r.Submitted != n || r.Answered != n/2 {
		t.Errorf("submitted %d answered %d", r.Submitted, r.Answered)
	}
}
