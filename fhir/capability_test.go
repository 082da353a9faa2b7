package fhir

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestCapabilityStatementOperations: operations render at rest.operation
// (system) and rest.resource.operation (type and instance), and the
// statement stays valid R4.
func TestCapabilityStatementOperations(t *testing.T) {
	const def = "http://hl7.org/fhir/OperationDefinition/"
	cases := []struct {
		name         string
		system       []OperationCapability
		patient      []OperationCapability
		wantSystem   []string
		wantPatient  []string
		wantOmission bool // no "operation" member at all
	}{
		{"none", nil, nil, nil, nil, true},
		{"system and type", []OperationCapability{{"meta", def + "Resource-meta"}},
			[]OperationCapability{{"validate", def + "Resource-validate"}, {"everything", def + "Patient-everything"}},
			[]string{"meta " + def + "Resource-meta"},
			[]string{"validate " + def + "Resource-validate", "everything " + def + "Patient-everything"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := CapabilityStatement(Capabilities{
				BaseURL: "http://fhir.test", SoftwareName: "Telederm", Published: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
				Formats: []string{"json"}, SystemInteractions: []string{"search-system"}, SystemOperations: tc.system,
				Resources: []ResourceCapability{
					{Type: "Patient", Interactions: []string{"read"}, Operations: tc.patient},
					{Type: "Observation", Interactions: []string{"read"}},
				},
			})
			if _, o := newTestCodec(t).Parse(b); o != nil {
				t.Fatalf("not valid R4: %s\n%s", o.Error(), b)
			}
			var cs struct {
				Rest []struct {
					Operation []struct{ Name, Definition string }
					Resource  []struct {
						Type      string
						Operation []struct{ Name, Definition string }
					}
				}
			}
			if err := json.Unmarshal(b, &cs); err != nil {
				t.Fatal(err)
			}
			render := func(ops []struct{ Name, Definition string }) []string {
				var out []string
				for _, o := range ops {
					out = append(out, o.Name+" "+o.Definition)
				}
				return out
			}
			if got := render(cs.Rest[0].Operation); !slices.Equal(got, tc.wantSystem) {
				t.Errorf("system operations %v, want %v", got, tc.wantSystem)
			}
			if got := render(cs.Rest[0].Resource[0].Operation); !slices.Equal(got, tc.wantPatient) {
				t.Errorf("Patient operations %v, want %v", got, tc.wantPatient)
			}
			if len(cs.Rest[0].Resource[1].Operation) != 0 {
				t.Errorf("Observation lists operations it was not given")
			}
			if has := containsKey(t, b, "operation"); has == tc.wantOmission {
				t.Errorf("\"operation\" present = %v, want %v", has, !tc.wantOmission)
			}
		})
	}
}

// containsKey reports whether a JSON document has the member name at any
// depth.
func containsKey(t *testing.T, b []byte, name string) bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == name || walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
