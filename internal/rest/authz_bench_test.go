package rest

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkReadByIDScopes: the cost of the scope check on a read by id,
// with authorization off, an unconfined grant (the scope is chosen, no
// more) and a patient-confined one (the stored body's index entries are
// extracted to test the compartment).
func BenchmarkReadByIDScopes(b *testing.B) {
	s := newOpsService(b)
	const n = 100
	for i := range n {
		id := fmt.Sprintf("o%d", i)
		if r := s.Update(b.Context(), "Observation", id, []byte(obsJSON(id, "p1", "laboratory")), ""); !r.OK() {
			b.Fatalf("put %s: %d %s", id, r.Status, r.Body)
		}
	}
	for _, g := range []struct{ name, scopes, patient string }{
		{"off", "", ""},
		{"user", "openid fhirUser user/*.cruds", ""},
		{"patient", "launch/patient patient/*.cruds", "p1"},
	} {
		b.Run(g.name, func(b *testing.B) {
			ctx := b.Context()
			if g.scopes != "" {
				ctx = withScopes(b, ctx, g.scopes, g.patient)
			}
			i := 0
			for b.Loop() {
				if r := s.Read(ctx, "Observation", fmt.Sprintf("o%d", i%n)); r.Status != http.StatusOK {
					b.Fatalf("read: %d %s", r.Status, r.Body)
				}
				i++
			}
		})
	}
}
