package triage

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

func loadBundle(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("testdata/referral-stored.json")
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFromResourcesRealisticReferral(t *testing.T) {
	b := loadBundle(t)
	var sr map[string]any
	var related []map[string]any
	for _, e := range b["entry"].([]any) {
		res := e.(map[string]any)["resource"].(map[string]any)
		if res["resourceType"] == "ServiceRequest" {
			sr = res
		} else {
			related = append(related, res)
		}
	}
	ref := FromResources(sr, related)
	fromBundle, err := FromBundle(b)
	if err != nil {
		t.Fatal(err)
	}

	for name, r := range map[string]Referral{"FromResources": ref, "FromBundle": fromBundle} {
		t.Run(name, func(t *testing.T) {
			if !r.Checklist || r.ScoreGiven == nil || *r.ScoreGiven != 3 {
				t.Errorf("checklist %v score %v", r.Checklist, r.ScoreGiven)
			}
			wantFeatures := map[string]FeatureState{"change-in-size": Present, "irregular-shape": Absent, "irregular-colour": Absent,
				"diameter-7mm": Present, "inflammation": Absent, "oozing": Absent}
			for f, s := range wantFeatures {
				if r.Features[f] != s {
					t.Errorf("feature %s = %v, want %v", f, r.Features[f], s)
				}
			}
			if r.Features["change-in-sensation"] != Unknown {
				t.Error("a component with dataAbsentReason should be unknown")
			}
			if !slices.Contains(r.DiagnosisCodes, "254701007") || !slices.Contains(r.BodySites, "89545001") {
				t.Errorf("codes %v sites %v", r.DiagnosisCodes, r.BodySites)
			}
			if r.SizeMm == nil || *r.SizeMm != 14 {
				t.Errorf("size %v, want 14 mm (1.4 cm beats the 12 mm in the text)", r.SizeMm)
			}
			if r.DermoscopyMelanoma == nil || *r.DermoscopyMelanoma {
				t.Errorf("dermoscopy %v, want false", r.DermoscopyMelanoma)
			}
			if !r.Consent {
				t.Error("consent not found")
			}
			views := map[string]Photo{}
			for _, p := range r.Photos {
				views[p.View] = p
			}
			if len(r.Photos) != 3 || views["close-up"].Width != 1600 || views["regional"].ContentType != "image/png" ||
				views["dermoscopic"].Source != "DocumentReference/doc-dermoscopy#0" {
				t.Errorf("photos %+v (the other referral's photo and the PDF letter must be left out)", r.Photos)
			}

			r.DermatoscopeAvailable = true
			res := Evaluate(Default(), r)
			if res.Pathway != SuspectedCancer || *res.Score != 3 || res.ScoreMismatch {
				t.Errorf("result %+v", res)
			}
			if got := reasonIDs(res); !slices.Equal(got, []string{"seven-point-score", "bcc-flagged"}) {
				t.Errorf("reasons %v", got)
			}
			if got := missingIDs(res); !slices.Equal(got, []string{"seven-point-score", "image-size"}) {
				t.Errorf("missing %v (checklist item unknown; HEIC document has no pixel size)", got)
			}
			if len(Blocking(res)) != 0 {
				t.Errorf("blocking %+v", Blocking(res))
			}
		})
	}
}

// A transaction Bundle before submission: references are urn:uuid, the
// override is on the ServiceRequest, consent is an Observation.
func TestFromBundleTransaction(t *testing.T) {
	const srURL = "urn:uuid:6f1c3f9e-0000-4000-8000-000000000001"
	bundle := map[string]any{
		"resourceType": "Bundle", "type": "transaction",
		"entry": []any{
			map[string]any{"fullUrl": srURL, "resource": map[string]any{
				"resourceType":    "ServiceRequest",
				"performerType":   map[string]any{"coding": []any{map[string]any{"system": SNOMED, "code": "700241009"}}},
				"subject":         map[string]any{"reference": "urn:uuid:pat"},
				"reasonCode":      []any{map[string]any{"text": "Non-healing crusted lesion, indurated, 1.5 cm"}},
				"reasonReference": []any{map[string]any{"reference": "urn:uuid:cond"}},
				"extension": []any{map[string]any{"url": ExtensionOverride, "extension": []any{
					map[string]any{"url": "reason", "valueCodeableConcept": map[string]any{
						"coding": []any{map[string]any{"system": SystemOverrideReason, "code": "reassuring-history"}}, "text": "unchanged for 5 years"}},
					map[string]any{"url": "pathway", "valueCoding": map[string]any{"system": SystemPathway, "code": Routine}},
				}}},
			}},
			map[string]any{"fullUrl": "urn:uuid:cond", "resource": map[string]any{
				"resourceType": "Condition",
				"code":         map[string]any{"coding": []any{map[string]any{"system": SNOMED, "code": "254651007"}}},
			}},
			map[string]any{"fullUrl": "urn:uuid:consent", "resource": map[string]any{
				"resourceType": "Observation", "status": "final",
				"code":         map[string]any{"coding": []any{map[string]any{"system": SystemConsentType, "code": "clinical-photography"}}},
				"basedOn":      []any{map[string]any{"reference": srURL}},
				"valueBoolean": true,
			}},
			map[string]any{"fullUrl": "urn:uuid:photo", "resource": map[string]any{
				"resourceType": "Media", "status": "completed",
				"modality": map[string]any{"coding": []any{map[string]any{"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "DMS"}}},
				"basedOn":  []any{map[string]any{"reference": srURL}},
				"width":    1200.0, "height": 900.0,
				"content": map[string]any{"contentType": "image/jpeg"},
			}},
		},
	}
	ref, err := FromBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ref.DiagnosisCodes, "254651007") || ref.SizeMm == nil || *ref.SizeMm != 15 || !ref.Consent {
		t.Errorf("referral %+v", ref)
	}
	if len(ref.Photos) != 1 || ref.Photos[0].View != "dermoscopic" {
		t.Errorf("a DMS photo without a view should count as dermoscopic: %+v", ref.Photos)
	}
	if ref.Override == nil || ref.Override.Pathway != Routine || ref.Override.Reason != "reassuring-history" || ref.Override.ReasonText != "unchanged for 5 years" {
		t.Errorf("override %+v", ref.Override)
	}
	res := Evaluate(Default(), ref)
	if !res.Overridden || res.Pathway != Routine || res.RecommendedPathway != SuspectedCancer {
		t.Errorf("result %+v", res)
	}

	if _, err := FromBundle(map[string]any{"resourceType": "Bundle"}); err == nil {
		t.Error("a Bundle without a referral should fail")
	}
	if _, err := FromBundle(map[string]any{"resourceType": "Patient"}); err == nil {
		t.Error("a Patient is not a Bundle")
	}
}

func TestSizeFromText(t *testing.T) {
	cases := map[string]float64{"12 mm": 12, "about 1.5cm across": 15, "7mm and 9 MM": 9, "Grade 3 lesion": -1, "2 cm x 1 cm": 20}
	for text, want := range cases {
		var r Referral
		r.addText(text)
		switch {
		case want < 0 && r.SizeMm != nil:
			t.Errorf("%q: size %v, want none", text, *r.SizeMm)
		case want >= 0 && (r.SizeMm == nil || *r.SizeMm != want):
			t.Errorf("%q: size %v, want %v", text, r.SizeMm, want)
		}
	}
}
