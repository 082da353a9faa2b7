package telederm

import (
	"testing"

	"github.com/telederm/telederm/internal/telederm/triage"
	"github.com/telederm/telederm/profiles"
)

// Every code the workflow and the default rules write is in a published
// code system, so a client can look each one up.
func TestWrittenCodesArePublished(t *testing.T) {
	set, err := profiles.Validator()
	if err != nil {
		t.Fatal(err)
	}
	type code struct{ valueSet, system, code string }
	var codes []code
	for _, r := range triage.Default().RuleCodes() {
		codes = append(codes, code{canonical + "ValueSet/triage-rule", canonical + "CodeSystem/triage-rule", r.ID})
	}
	for s := range taskStatus {
		codes = append(codes, code{canonical + "ValueSet/referral-state", stateSystem, string(s)})
	}
	for _, o := range []string{"advice-only", "routine-appointment", "urgent-suspected-cancer", "direct-to-procedure", "more-information"} {
		if _, ok := adviceState(o); !ok {
			t.Errorf("adviceState does not know %s", o)
		}
		codes = append(codes, code{canonical + "ValueSet/advice-outcome", outcomeSystem, o})
	}
	codes = append(codes, code{canonical + "ValueSet/referral-flag", flagSystem, FlagOverdue})
	for _, c := range codes {
		if known, ok := set.ValueSetContains(c.valueSet, c.system, c.code); !known || !ok {
			t.Errorf("%s|%s is not in the published %s (known %v)", c.system, c.code, c.valueSet, known)
		}
	}
}
