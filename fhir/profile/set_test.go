package profile

import (
	"strings"
	"testing"
)

func TestLoadErrors(t *testing.T) {
	good := testdataFiles(t)
	ownBad := `{"resourceType":"StructureDefinition","url":"https://example.test/sd/bad","type":"Patient",
	  "differential":{"element":[{"id":"Patient","path":"Patient","constraint":[{"key":"bad-1"}]}]},
	  "snapshot":{"element":[{"id":"Patient","path":"Patient","constraint":[
	    {"key":"bad-1","severity":"error","human":"h","expression":"name.trace('x').exists()"}]}]}}`
	ownBySource := `{"resourceType":"StructureDefinition","url":"https://example.test/sd/bad2","type":"Patient",
	  "snapshot":{"element":[{"id":"Patient","path":"Patient","constraint":[
	    {"key":"bad-2","severity":"error","human":"h","expression":"name >","source":"https://example.test/sd/bad2"}]}]}}`
	for _, c := range []struct {
		name, resource, want string
	}{
		{"not JSON", `{"resourceType":`, "resource 0: not a JSON resource"},
		{"not an object", `[1]`, "resource 0: not a JSON resource"},
		{"other resource", `{"resourceType":"Patient","id":"x"}`, "resource 0 (Patient x): not a StructureDefinition"},
		{"no snapshot", `{"resourceType":"StructureDefinition","url":"https://example.test/sd/nosnap","type":"Patient"}`, "https://example.test/sd/nosnap): no snapshot"},
		{"no url", `{"resourceType":"StructureDefinition","id":"x","type":"Patient","snapshot":{"element":[{"path":"Patient"}]}}`, "(StructureDefinition x): no url"},
		{"orphan element", `{"resourceType":"StructureDefinition","url":"https://example.test/sd/o","type":"Patient","snapshot":{"element":[
		   {"id":"Patient","path":"Patient"},{"id":"Patient.contact.name","path":"Patient.contact.name"}]}}`, `parent "Patient.contact" is not in the snapshot`},
		{"bad max", `{"resourceType":"StructureDefinition","url":"https://example.test/sd/m","type":"Patient","snapshot":{"element":[
		   {"id":"Patient","path":"Patient","max":"many"}]}}`, `max "many" is not an integer`},
		{"own constraint does not compile (differential)", ownBad, "https://example.test/sd/bad: element Patient: constraint bad-1"},
		{"own constraint does not compile (source)", ownBySource, "https://example.test/sd/bad2: element Patient: constraint bad-2"},
		{"bad discriminator", `{"resourceType":"StructureDefinition","url":"https://example.test/sd/d","type":"Patient","snapshot":{"element":[
		   {"id":"Patient","path":"Patient"},{"id":"Patient.name","path":"Patient.name","slicing":{"discriminator":[{"type":"value","path":"use("}]}}]}}`, `slicing discriminator "use("`},
		{"ValueSet without url", `{"resourceType":"ValueSet","id":"v"}`, "(ValueSet v): ValueSet has no url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(append(append([][]byte(nil), good...), []byte(c.resource))...)
			if c.name == "not JSON" || c.name == "not an object" || c.name == "other resource" {
				_, err = Load([]byte(c.resource))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Load error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestLoadSkipsBaseConstraintsThatDoNotCompile(t *testing.T) {
	s := loadTestSet(t)
	p, _ := s.lookup(patientURL)
	var keys []string
	for _, inv := range p.root.invariants {
		keys = append(keys, inv.key)
	}
	// dom-3 uses trace() (not in the subset) and dom-6 is a warning.
	if strings.Join(keys, ",") != "dom-2" {
		t.Errorf("root invariants = %v, want only dom-2", keys)
	}
}

func TestKnows(t *testing.T) {
	s := loadTestSet(t)
	for url, want := range map[string]bool{
		patientURL:            true,
		patientURL + "|1.0.0": true,
		patientURL + "|2.0.0": false,
		scoreURL:              true,
		scoreURL + "|9":       true, // no version on the profile: any is accepted
		complexExtURL:         true,
		"https://nowhere.test/StructureDefinition/x": false,
		"": false,
	} {
		if got := s.Knows(url); got != want {
			t.Errorf("Knows(%q) = %v, want %v", url, got, want)
		}
	}
}

func TestValueSetContains(t *testing.T) {
	s := loadTestSet(t)
	for _, c := range []struct {
		url, system, code string
		known, ok         bool
	}{
		// Whole CodeSystem in the Set, nested concepts included.
		{testCodesVS, testCodes, "checklist", true, true},
		{testCodesVS, testCodes, "big", true, true},
		{testCodesVS, testCodes, "nope", true, false},
		{testCodesVS, "http://other.test", "big", true, false},
		{testCodesVS, "", "small", true, true},
		{testCodesVS + "|1.2", testCodes, "a1", true, true},
		// A concept list.
		{"https://example.test/ValueSet/gender", "http://hl7.org/fhir/administrative-gender", "female", true, true},
		{"https://example.test/ValueSet/gender", "http://hl7.org/fhir/administrative-gender", "f", true, false},
		{"https://example.test/ValueSet/gender", "", "male", true, true},
		// Included ValueSet, an excluded code, and a system not in the Set
		// (every code of it counts).
		{"https://example.test/ValueSet/mixed", testCodes, "a1", true, true},
		{"https://example.test/ValueSet/mixed", testCodes, "a2", true, false},
		{"https://example.test/ValueSet/mixed", "http://loinc.org", "11488-4", true, true},
		{"https://example.test/ValueSet/mixed", "http://snomed.info/sct", "3457005", true, false},
		// Not in the Set.
		{"https://nowhere.test/ValueSet/x", "s", "c", false, false},
	} {
		known, ok := s.ValueSetContains(c.url, c.system, c.code)
		if known != c.known || ok != c.ok {
			t.Errorf("ValueSetContains(%q, %q, %q) = %v, %v; want %v, %v", c.url, c.system, c.code, known, ok, c.known, c.ok)
		}
	}
}
