package fhir

import (
	"slices"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// TestOfficialExamples parses and re-marshals every official R4 example: the
// valid ones come back as the same JSON value, and exactly the known-invalid
// ones are rejected, naming the element at fault.
func TestOfficialExamples(t *testing.T) {
	c := newTestCodec(t)
	examples := sharedspec.Examples(t)
	invalid := sharedspec.KnownInvalid(t)
	rejected := 0
	for _, ex := range examples {
		r, o := c.Parse(ex.Body)
		inv, wantInvalid := invalid[ex.Name]
		switch {
		case o != nil && !wantInvalid:
			t.Errorf("%s rejected: %s", ex.Name, o.Error())
			continue
		case o != nil:
			rejected++
			if !outcomeNames(o, inv.Expression) {
				t.Errorf("%s rejected without naming %s: %s", ex.Name, inv.Expression, o.Error())
			}
			t.Logf("rejected as expected: %s: %s", ex.Name, o.Issue[0].Diagnostics)
			continue
		case wantInvalid:
			t.Errorf("%s accepted, but it is listed as invalid at %s", ex.Name, inv.Expression)
			continue
		}
		out, err := c.Marshal(r)
		if err != nil {
			t.Errorf("%s: marshal: %v", ex.Name, err)
			continue
		}
		if !jsonEqual(t, ex.Body, out) {
			t.Errorf("%s changed by the round trip\n in: %.300s\nout: %.300s", ex.Name, ex.Body, out)
		}
	}
	t.Logf("%d official examples: %d round-tripped unchanged, %d rejected as listed in testdata", len(examples), len(examples)-rejected, rejected)
}

func outcomeNames(o *Outcome, expr string) bool {
	for _, is := range o.Issue {
		if slices.Contains(is.Expression, expr) {
			return true
		}
	}
	return false
}
