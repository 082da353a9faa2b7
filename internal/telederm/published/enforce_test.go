package published

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/media"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store/sqlite"
	"github.com/telederm/telederm/profiles"
)

// With the published profiles as rest.Config.Profiles, a write claiming
// one is validated against it; the same resource without the claim is not.
func TestClaimedProfilesEnforced(t *testing.T) {
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
	set, err := profiles.Validator()
	if err != nil {
		t.Fatal(err)
	}
	svc := rest.New(repo, blobs, codec, rest.Config{BaseURL: base, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		WriteCheckers: WriteCheckers(), Profiles: set, Now: func() time.Time { return t0 }})
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "profiles", "examples", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ctx := t.Context()
	if r := svc.Update(ctx, "ServiceRequest", "example", []byte(read("telederm-referral/valid")), ""); r.Status != 201 {
		t.Errorf("valid referral: %d %s", r.Status, r.Body)
	}
	bad := read("telederm-referral/intent-not-order")
	r := svc.Update(ctx, "ServiceRequest", "example", []byte(bad), "")
	if r.Status != 422 || !strings.Contains(string(r.Body), "ServiceRequest.intent") {
		t.Errorf("referral with intent plan: %d %s", r.Status, r.Body)
	}
	unclaimed := strings.Replace(bad, "https://telederm.example/fhir/StructureDefinition/telederm-referral", "https://other.example/StructureDefinition/referral", 1)
	if r := svc.Update(ctx, "ServiceRequest", "example", []byte(unclaimed), ""); r.Status != 200 {
		t.Errorf("the same referral claiming another profile: %d %s", r.Status, r.Body)
	}
}
