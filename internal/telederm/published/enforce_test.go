package published

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/rest/resttest"
	"github.com/telederm/telederm/profiles"
)

// With the published profiles as rest.Config.Profiles, a write claiming
// one is validated against it; the same resource without the claim is not.
func TestClaimedProfilesEnforced(t *testing.T) {
	set, err := profiles.Validator()
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := resttest.New(t, rest.Config{BaseURL: base, WriteCheckers: WriteCheckers(), Profiles: set, Now: func() time.Time { return t0 }})
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
