package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/profile"
	"github.com/telederm/telederm/internal/sharedspec"
)

func validator(t *testing.T) *profile.Set {
	t.Helper()
	set, err := Validator()
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func readExample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("examples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// claimed is the profile an example claims in meta.profile.
func claimed(t *testing.T, name string, doc map[string]any) string {
	t.Helper()
	m, _ := doc["meta"].(map[string]any)
	ps, _ := m["profile"].([]any)
	if len(ps) != 1 {
		t.Fatalf("%s claims %v; each example claims its one profile", name, ps)
	}
	return ps[0].(string)
}

// The failing examples: each breaks one constraint of its profile and
// must draw exactly one error, at expression, whose text says why.
var failing = []struct{ name, expression, why string }{
	{"telederm-patient/nhs-number-missing", "Patient.identifier", "slice nhsNumber"},
	{"telederm-patient/nhs-number-value-missing", "Patient.identifier[0].value", "minimum cardinality is 1"},
	{"telederm-patient/nhs-number-check-digit", "Patient.identifier[0].value", "tdm-nhs-1"},
	{"telederm-patient/nhs-number-check-digit-ten", "Patient.identifier[0].value", "tdm-nhs-1"},
	{"telederm-patient/name-missing", "Patient.name", "minimum cardinality is 1"},
	{"telederm-patient/gender-missing", "Patient.gender", "minimum cardinality is 1"},
	{"telederm-patient/birthdate-missing", "Patient.birthDate", "minimum cardinality is 1"},
	{"telederm-patient/general-practitioner-missing", "Patient.generalPractitioner", "minimum cardinality is 1"},

	{"telederm-referral/intent-not-order", "ServiceRequest.intent", `exactly "order"`},
	{"telederm-referral/category-referral-missing", "ServiceRequest.category", "slice referral"},
	{"telederm-referral/code-missing", "ServiceRequest.code", "minimum cardinality is 1"},
	{"telederm-referral/code-not-in-valueset", "ServiceRequest.code", "ValueSet/request-type"},
	{"telederm-referral/performer-type-missing", "ServiceRequest.performerType", "minimum cardinality is 1"},
	{"telederm-referral/performer-type-not-dermatologist", "ServiceRequest.performerType", "18803008"},
	{"telederm-referral/requester-missing", "ServiceRequest.requester", "minimum cardinality is 1"},
	{"telederm-referral/priority-missing", "ServiceRequest.priority", "minimum cardinality is 1"},
	{"telederm-referral/reason-code-missing", "ServiceRequest.reasonCode", "minimum cardinality is 1"},
	{"telederm-referral/body-site-missing", "ServiceRequest.bodySite", "minimum cardinality is 1"},
	{"telederm-referral/authored-on-missing", "ServiceRequest.authoredOn", "minimum cardinality is 1"},
	{"telederm-referral/triage-result-twice", "ServiceRequest.extension", "slice triageResult"},
	{"telederm-referral/triage-override-twice", "ServiceRequest.extension", "slice triageOverride"},
	{"telederm-referral/triage-result-pathway-missing", "ServiceRequest.extension[0].extension", "slice pathway"},
	{"telederm-referral/triage-override-reason-not-in-valueset", "ServiceRequest.extension[1].extension[0].valueCodeableConcept", "ValueSet/override-reason"},

	{"telederm-lesion-photo/based-on-missing", "Media.basedOn", "minimum cardinality is 1"},
	{"telederm-lesion-photo/type-not-image", "Media.type", "pattern"},
	{"telederm-lesion-photo/modality-missing", "Media.modality", "minimum cardinality is 1"},
	{"telederm-lesion-photo/modality-not-in-valueset", "Media.modality", "ValueSet/photo-modality"},
	{"telederm-lesion-photo/view-missing", "Media.view", "minimum cardinality is 1"},
	{"telederm-lesion-photo/view-not-in-valueset", "Media.view", "ValueSet/photo-view"},
	{"telederm-lesion-photo/subject-missing", "Media.subject", "minimum cardinality is 1"},
	{"telederm-lesion-photo/body-site-missing", "Media.bodySite", "minimum cardinality is 1"},
	{"telederm-lesion-photo/height-missing", "Media.height", "minimum cardinality is 1"},
	{"telederm-lesion-photo/width-missing", "Media.width", "minimum cardinality is 1"},
	{"telederm-lesion-photo/content-type-missing", "Media.content.contentType", "minimum cardinality is 1"},
	{"telederm-lesion-photo/content-type-not-in-valueset", "Media.content.contentType", "ValueSet/lesion-image-type"},
	{"telederm-lesion-photo/content-url-missing", "Media.content.url", "minimum cardinality is 1"},

	{"telederm-seven-point-checklist/code-not-checklist", "Observation.code", "pattern"},
	{"telederm-seven-point-checklist/based-on-missing", "Observation.basedOn", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/based-on-twice", "Observation.basedOn", "maximum cardinality is 1"},
	{"telederm-seven-point-checklist/subject-missing", "Observation.subject", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/score-wrong", "Observation", "tdm-7pt-1"},
	{"telederm-seven-point-checklist/change-in-size-missing", "Observation.component", "slice changeInSize"},
	{"telederm-seven-point-checklist/irregular-shape-missing", "Observation.component", "slice irregularShape"},
	{"telederm-seven-point-checklist/irregular-colour-missing", "Observation.component", "slice irregularColour"},
	{"telederm-seven-point-checklist/diameter-7mm-missing", "Observation.component", "slice diameter7mm"},
	{"telederm-seven-point-checklist/inflammation-missing", "Observation.component", "slice inflammation"},
	{"telederm-seven-point-checklist/oozing-missing", "Observation.component", "slice oozing"},
	{"telederm-seven-point-checklist/change-in-sensation-missing", "Observation.component", "slice changeInSensation"},
	{"telederm-seven-point-checklist/change-in-size-value-missing", "Observation.component[0].valueBoolean", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/irregular-shape-value-missing", "Observation.component[1].valueBoolean", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/irregular-colour-value-missing", "Observation.component[2].valueBoolean", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/diameter-7mm-value-missing", "Observation.component[3].valueBoolean", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/inflammation-value-missing", "Observation.component[4].valueBoolean", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/oozing-value-missing", "Observation.component[5].valueBoolean", "minimum cardinality is 1"},
	{"telederm-seven-point-checklist/change-in-sensation-value-missing", "Observation.component[6].valueBoolean", "minimum cardinality is 1"},

	{"telederm-advice/based-on-missing", "DiagnosticReport.basedOn", "minimum cardinality is 1"},
	{"telederm-advice/based-on-twice", "DiagnosticReport.basedOn", "maximum cardinality is 1"},
	{"telederm-advice/code-not-consult-note", "DiagnosticReport.code", "11488-4"},
	{"telederm-advice/subject-missing", "DiagnosticReport.subject", "minimum cardinality is 1"},
	{"telederm-advice/issued-missing", "DiagnosticReport.issued", "minimum cardinality is 1"},
	{"telederm-advice/performer-missing", "DiagnosticReport.performer", "minimum cardinality is 1"},
	{"telederm-advice/conclusion-missing", "DiagnosticReport.conclusion", "minimum cardinality is 1"},
	{"telederm-advice/outcome-missing", "DiagnosticReport.conclusionCode", "slice outcome"},
	{"telederm-advice/outcome-not-in-valueset", "DiagnosticReport.conclusionCode[0]", "ValueSet/advice-outcome"},
}

func TestValidExamples(t *testing.T) {
	set := validator(t)
	for _, p := range []string{"telederm-patient", "telederm-referral", "telederm-lesion-photo", "telederm-seven-point-checklist", "telederm-advice"} {
		name := p + "/valid"
		doc := readExample(t, name)
		if url := claimed(t, name, doc); !strings.HasSuffix(url, "/"+p) {
			t.Errorf("%s claims %s", name, url)
		}
		if issues := set.Validate(t.Context(), claimed(t, name, doc), doc); len(issues) != 0 {
			t.Errorf("%s: %v", name, issues)
		}
	}
}

func TestFailingExamples(t *testing.T) {
	set := validator(t)
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			doc := readExample(t, tt.name)
			issues := set.Validate(t.Context(), claimed(t, tt.name, doc), doc)
			if len(issues) != 1 {
				t.Fatalf("%d issues, want 1: %v", len(issues), issues)
			}
			i := issues[0]
			if i.Severity != fhir.SeverityError || !slices.Equal(i.Expression, []string{tt.expression}) || !strings.Contains(i.Diagnostics, tt.why) {
				t.Errorf("issue %+v; want an error at %s saying %q", i, tt.expression, tt.why)
			}
		})
	}
}

// Every file in examples/ is in the table above or a valid example, so
// none goes unchecked.
func TestEveryExampleIsChecked(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("examples", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		name := strings.TrimSuffix(filepath.ToSlash(strings.TrimPrefix(n, "examples"+string(filepath.Separator))), ".json")
		if !strings.HasSuffix(name, "/valid") && !slices.ContainsFunc(failing, func(f struct{ name, expression, why string }) bool { return f.name == name }) {
			t.Errorf("examples/%s.json is in no test", name)
		}
	}
}

// nhsNumberValid is the NHS rule as the NHS states it: check = 11 - (sum
// of digits 1-9 times weights 10..2) mod 11; 11 is 0; 10 is invalid.
func nhsNumberValid(s string) bool {
	if len(s) != 10 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	sum := 0
	for i := range 9 {
		sum += int(s[i]-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return check == int(s[9]-'0')
}

// tdm-nhs-1 (written differently, in FHIRPath) agrees with the NHS's own
// statement of the rule on numbers of every remainder, and refuses what is
// not 10 digits.
func TestNHSNumberInvariant(t *testing.T) {
	set := validator(t)
	doc := readExample(t, "telederm-patient/valid")
	url := claimed(t, "valid", doc)
	ident := doc["identifier"].([]any)[0].(map[string]any)
	rng := rand.New(rand.NewPCG(8, 11))
	numbers := []string{"943476591", "94347659190", "943476591a", "9434 65919", "", "０９４３４７６５９"}
	for range 3000 {
		numbers = append(numbers, fmt.Sprintf("%010d", rng.Int64N(10_000_000_000)))
	}
	var valid, invalid int
	for _, n := range numbers {
		ident["value"] = n
		want := nhsNumberValid(n)
		issues := set.Validate(t.Context(), url, doc)
		if got := len(issues) == 0; got != want {
			t.Errorf("%q: issues %v, want valid %v", n, issues, want)
		}
		if want {
			valid++
		} else {
			invalid++
		}
	}
	if valid < 200 || invalid < 200 {
		t.Errorf("the sample has %d valid and %d invalid numbers; it should have plenty of both", valid, invalid)
	}
}

// tdm-7pt-1 holds exactly when the score is 2 per major feature and 1 per
// minor feature present, for every combination of features; an absent
// score is allowed.
func TestSevenPointInvariant(t *testing.T) {
	set := validator(t)
	doc := readExample(t, "telederm-seven-point-checklist/valid")
	url := claimed(t, "valid", doc)
	comps := doc["component"].([]any)
	points := []int{2, 2, 2, 1, 1, 1, 1} // change-in-size, irregular-shape, irregular-colour, then the minor ones
	for mask := range 1 << 7 {
		want := 0
		for i, c := range comps {
			present := mask&(1<<i) != 0
			c.(map[string]any)["valueBoolean"] = present
			if present {
				want += points[i]
			}
		}
		for score := range 11 {
			doc["valueInteger"] = json.Number(fmt.Sprint(score))
			issues := set.Validate(t.Context(), url, doc)
			if ok := len(issues) == 0; ok != (score == want) {
				t.Errorf("features %07b, score %d (weighted %d): %v", mask, score, want, issues)
			}
		}
		delete(doc, "valueInteger")
		if issues := set.Validate(t.Context(), url, doc); len(issues) != 0 {
			t.Errorf("features %07b without a score: %v", mask, issues)
		}
	}
}

// Profile enforcement applies only to resources claiming our profiles:
// the Set knows the published StructureDefinitions and nothing an
// official R4 example claims, nor any base-spec definition.
func TestOfficialExamplesUntouched(t *testing.T) {
	set := validator(t)
	for key := range published(t) {
		if strings.HasPrefix(key, "StructureDefinition/") && !set.Knows(tdm+key) {
			t.Errorf("the validator does not know %s", key)
		}
	}
	examples := sharedspec.Examples(t)
	for _, ex := range examples {
		var doc struct {
			ResourceType string
			Meta         struct{ Profile []string }
		}
		if err := json.Unmarshal(ex.Body, &doc); err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		for _, p := range doc.Meta.Profile {
			if set.Knows(p) {
				t.Errorf("%s claims %s, which the published Set knows", ex.Name, p)
			}
		}
		if base := "http://hl7.org/fhir/StructureDefinition/" + doc.ResourceType; set.Knows(base) {
			t.Errorf("the published Set knows the base definition %s", base)
		}
	}
}
