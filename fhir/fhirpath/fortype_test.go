package fhirpath

import (
	"fmt"
	"testing"
)

func TestForType(t *testing.T) {
	obs := decode(t, `{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p"},
		"code":{"coding":[{"code":"a"},{"code":"a"}]},"meta":{"tag":[{"code":"t"}]}}`)
	bundle := decode(t, `{"resourceType":"Bundle","id":"b","meta":{"tag":[{"code":"t"}]}}`)
	tests := []struct {
		expr     string
		typ      string
		res      map[string]any
		branches int // of the specialised top-level union; 0: selects nothing, -1: e itself
	}{
		{"Observation.subject", "Observation", obs, -1},
		{"Observation.subject | Patient.link.other", "Observation", obs, 1},
		{"Patient.link.other | Observation.subject | Encounter.subject", "Observation", obs, 1},
		{"Patient.link | Encounter.subject", "Observation", obs, 0},
		{"Observation.code.coding.code | Observation.code.coding.code", "Observation", obs, -1},
		{"Patient.name | Observation.code.coding.code", "Observation", obs, 1}, // duplicates still removed
		{"Resource.meta.tag | Patient.name", "Observation", obs, 1},
		{"DomainResource.meta.tag | Patient.name", "Bundle", bundle, 0},
		{"DomainResource.meta.tag | Observation.id", "Observation", obs, -1},
		{"subject | Patient.name", "Observation", obs, 1}, // no leading type: kept
		{"(Patient.name | Observation.subject) | Encounter.subject", "Observation", obs, 1},
		{"Observation.subject.where(resolve() is Patient) | Group.member.entity", "Observation", obs, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s on %s", tt.expr, tt.typ), func(t *testing.T) {
			e := MustCompile(tt.expr)
			s := e.ForType(tt.typ)
			switch n := len(unionBranches(s.root, nil)); {
			case tt.branches == -1 && s != e:
				t.Errorf("specialised to %d branches, want the expression itself", n)
			case tt.branches == 0:
				if _, ok := s.root.(literalStep); !ok {
					t.Errorf("root %T, want one that selects nothing", s.root)
				}
			case tt.branches == 1 && n != 2: // the kept branch | nothing
				t.Errorf("%d branches, want the kept one and an empty one", n)
			case tt.branches > 1 && n != tt.branches:
				t.Errorf("%d branches, want %d", n, tt.branches)
			}
			want, err := e.Eval(tt.res)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Eval(tt.res)
			if err != nil {
				t.Fatal(err)
			}
			if show(got) != show(want) {
				t.Errorf("specialised gives %s, the expression %s", show(got), show(want))
			}
			if s.String() != e.String() {
				t.Errorf("String() = %q, want %q", s.String(), e.String())
			}
		})
	}
}
