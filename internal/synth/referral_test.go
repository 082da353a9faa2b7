package synth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// testReferrer is a stored practice as ReferralFrom sees it.
var testReferrer = Referrer{Organization: "Organization/p1", Practitioner: "Practitioner/gp1", Role: "PractitionerRole/r1", Service: "Organization/derm"}

// jmap is a decoded JSON object; at walks it by keys and list indexes.
type jmap = map[string]any

func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(jmap)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// coding is system|code of the first coding of a CodeableConcept.
func coding(cc any) string {
	return fmt.Sprint(at(cc, "coding", 0, "system"), "|", at(cc, "coding", 0, "code"))
}

func profiles(m jmap) string { return fmt.Sprint(at(m, "meta", "profile")) }

// referralEntries decodes a referral Bundle: resources by fullUrl and by type.
func referralEntries(t *testing.T, raw []byte) (map[string]jmap, map[string][]jmap) {
	t.Helper()
	b := decodeBundle(t, raw)
	byURL, byType := map[string]jmap{}, map[string][]jmap{}
	for _, e := range b.Entry {
		var m jmap
		if err := json.Unmarshal(e.Resource, &m); err != nil {
			t.Fatal(err)
		}
		byURL[e.FullURL] = m
		byType[e.Request.URL] = append(byType[e.Request.URL], m)
	}
	return byURL, byType
}

// TestReferralShapes checks every generated referral against the data
// model of profiles/README.md, resource by resource, for referrals with a
// practice of their own and from a stored practice.
func TestReferralShapes(t *testing.T) {
	g := New(99)
	suspected, overrides, small := 0, 0, 0
	const n = 400
	for i := range n {
		var raw []byte
		var info Referral
		from := i%2 == 1
		if from {
			info = g.ReferralFrom(testReferrer, epoch.Add(time.Duration(i)*time.Hour))
			raw = info.Bundle
		} else {
			raw = g.ReferralBundle()
		}
		byURL, byType := referralEntries(t, raw)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Errorf("referral %d: "+format, append([]any{i}, args...)...)
		}
		want := map[string]int{"Patient": 1, "ServiceRequest": 1, "Binary": 3, "Media": 3, "Observation": 1,
			"Consent": 1, "Condition": 2, "MedicationStatement": 1, "Organization": 1, "Practitioner": 1, "PractitionerRole": 1}
		if from {
			want["Organization"], want["Practitioner"], want["PractitionerRole"] = 0, 0, 0
		}
		for typ, c := range want {
			if len(byType[typ]) != c {
				fail("%d %s, want %d", len(byType[typ]), typ, c)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		sr, pat, obs := byType["ServiceRequest"][0], byType["Patient"][0], byType["Observation"][0]

		// Patient: NHS number, gender, birthDate, GP practice.
		org := testReferrer.Organization
		if !from {
			org = urlOf(byURL, byType["Organization"][0])
			role := byType["PractitionerRole"][0]
			if at(role, "organization", "reference") != org || at(role, "practitioner", "reference") != urlOf(byURL, byType["Practitioner"][0]) {
				fail("PractitionerRole does not tie the GP to the practice: %v", role)
			}
			if at(byType["Organization"][0], "identifier", 0, "system") != odsCode {
				fail("practice without an ODS code")
			}
		}
		if at(pat, "identifier", 0, "system") != nhsNo || !ValidNHSNumber(fmt.Sprint(at(pat, "identifier", 0, "value"))) {
			fail("patient identifier %v", at(pat, "identifier"))
		}
		if at(pat, "gender") == nil || at(pat, "birthDate") == nil || at(pat, "name", 0, "family") == nil {
			fail("patient without gender, birthDate or name")
		}
		if at(pat, "generalPractitioner", 0, "reference") != org {
			fail("generalPractitioner %v, want the practice %s", at(pat, "generalPractitioner"), org)
		}
		if profiles(pat) != "["+ProfilePatient+"]" {
			fail("patient profiles %s", profiles(pat))
		}

		// ServiceRequest.
		patURL, srURL := urlOf(byURL, pat), urlOf(byURL, sr)
		checks := []struct {
			what      string
			got, want any
		}{
			{"status", at(sr, "status"), "active"},
			{"intent", at(sr, "intent"), "order"},
			{"category", coding(at(sr, "category", 0)), snomed + "|3457005"},
			{"code", coding(at(sr, "code")), RequestTypeSystem + "|advice-and-guidance"},
			{"performerType", coding(at(sr, "performerType")), snomed + "|18803008"},
			{"priority", at(sr, "priority"), "routine"},
			{"subject", at(sr, "subject", "reference"), patURL},
			{"authoredOn set", at(sr, "authoredOn") != nil, true},
			{"reasonCode", at(sr, "reasonCode", 0, "coding", 0, "system"), snomed},
			{"bodySite", at(sr, "bodySite", 0, "coding", 0, "system"), snomed},
			{"profile", profiles(sr), "[" + ProfileReferral + "]"},
		}
		if from {
			checks = append(checks,
				struct {
					what      string
					got, want any
				}{"requester", at(sr, "requester", "reference"), testReferrer.Role},
				struct {
					what      string
					got, want any
				}{"authoredOn", at(sr, "authoredOn"), dateTime(info.Authored)},
				struct {
					what      string
					got, want any
				}{"performer", at(sr, "performer", 0, "reference"), testReferrer.Service})
		} else if at(sr, "requester", "reference") != urlOf(byURL, byType["PractitionerRole"][0]) {
			fail("requester %v is not the GP's PractitionerRole", at(sr, "requester"))
		}
		for _, c := range checks {
			if c.got != c.want {
				fail("ServiceRequest %s = %v, want %v", c.what, c.got, c.want)
			}
		}
		if ext, ok := at(sr, "extension").([]any); ok {
			overrides++
			if len(ext) != 1 || at(ext, 0, "url") != ExtTriageOverride ||
				at(ext, 0, "extension", 0, "url") != "reason" || coding(at(ext, 0, "extension", 0, "valueCodeableConcept")) == "<nil>|<nil>" ||
				at(ext, 0, "extension", 1, "url") != "pathway" || at(ext, 0, "extension", 1, "valueCoding", "system") != PathwaySystem {
				fail("triage-override extension %v", ext)
			}
			if from && at(ext, 0, "extension", 1, "valueCoding", "code") != info.Override {
				fail("override pathway %v, info says %q", at(ext, 0, "extension", 1, "valueCoding", "code"), info.Override)
			}
		} else if from && info.Override != "" {
			fail("info says override %q but the ServiceRequest has none", info.Override)
		}

		// Photos: one of each view, a Binary each, the size floor.
		views := map[string]bool{}
		smallHere := false
		for _, m := range byType["Media"] {
			views[fmt.Sprint(at(m, "view", "coding", 0, "code"))] = true
			if at(m, "view", "coding", 0, "system") != PhotoViewSystem || at(m, "modality", "coding", 0, "system") != dicom ||
				at(m, "basedOn", 0, "reference") != srURL || at(m, "subject", "reference") != patURL || at(m, "bodySite") == nil ||
				profiles(m) != "["+ProfilePhoto+"]" || coding(at(m, "type")) != termCS+"media-type|image" {
				fail("Media shape: %v", m)
			}
			w, h := at(m, "width").(float64), at(m, "height").(float64)
			if w < 800 || h < 600 {
				smallHere = true
			}
			content := at(m, "content").(jmap)
			bin := byURL[fmt.Sprint(content["url"])]
			if bin == nil || bin["resourceType"] != "Binary" || content["contentType"] != "image/jpeg" {
				fail("Media content %v does not point at a Binary", content)
				continue
			}
			data, err := base64.StdEncoding.DecodeString(bin["data"].(string))
			if err != nil || !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF, 0xE0}) || int(content["size"].(float64)) != len(data) {
				fail("photo of %d bytes, content.size %v, err %v", len(data), content["size"], err)
			}
		}
		if !views["close-up"] || !views["regional"] || !views["dermoscopic"] {
			fail("views %v", views)
		}
		if smallHere {
			small++
		}
		if from && smallHere != info.SmallPhotos {
			fail("photos small %v, info says %v", smallHere, info.SmallPhotos)
		}
		if from && info.SmallPhotos {
			// The retake is the same referral with photos of the usual size.
			retake, retakeTypes := referralEntries(t, info.Retake)
			if len(retake) != len(byURL) {
				fail("retake has %d entries, the referral %d", len(retake), len(byURL))
			}
			for _, m := range retakeTypes["Media"] {
				if at(m, "width").(float64) < 800 || at(m, "height").(float64) < 600 {
					fail("retake photo %vx%v", at(m, "width"), at(m, "height"))
				}
			}
			for u, m := range retake {
				if byURL[u] == nil || m["resourceType"] != byURL[u]["resourceType"] {
					fail("retake entry %s is not in the referral", u)
				}
			}
		} else if info.Retake != nil {
			fail("a retake without small photos")
		}

		// The checklist: one Observation, seven boolean components, the
		// weighted score.
		if coding(at(obs, "code")) != ChecklistSystem+"|checklist" || at(obs, "basedOn", 0, "reference") != srURL ||
			at(obs, "subject", "reference") != patURL || profiles(obs) != "["+ProfileChecklist+"]" {
			fail("checklist Observation shape: %v", obs)
		}
		comps, _ := at(obs, "component").([]any)
		if len(comps) != 7 {
			fail("checklist has %d components", len(comps))
		}
		sum := 0
		for k, c := range comps {
			f := checklistFeatures[k]
			v, ok := at(c, "valueBoolean").(bool)
			if coding(at(c, "code")) != ChecklistSystem+"|"+f.code || !ok {
				fail("component %d: %v", k, c)
			}
			if v {
				sum += f.points
			}
		}
		if score := at(obs, "valueInteger"); score != float64(sum) {
			fail("checklist score %v, weighted sum of components %d", score, sum)
		}
		if from && info.Score != sum {
			fail("info score %d, checklist says %d", info.Score, sum)
		}
		if from && info.Suspected {
			suspected++
		}

		// Consent, history, medicine; all supporting the referral.
		consent := byType["Consent"][0]
		if at(consent, "status") != "active" || at(consent, "patient", "reference") != patURL ||
			coding(at(consent, "category", 0)) != ConsentTypeSystem+"|clinical-photography" {
			fail("Consent shape: %v", consent)
		}
		support := fmt.Sprint(at(sr, "supportingInfo"))
		for _, m := range []jmap{obs, consent, byType["MedicationStatement"][0]} {
			if !bytes.Contains([]byte(support), []byte(urlOf(byURL, m))) {
				fail("%s is not in supportingInfo", m["resourceType"])
			}
		}
	}
	// The shares the seed's region depends on, over n referrals (half of
	// them report Suspected): loose bounds around the documented targets.
	for _, c := range []struct {
		what     string
		got      int
		of       int
		min, max float64
	}{
		{"suspected (target ~14%)", suspected, n / 2, 0.07, 0.24},
		{"overrides (target 3%)", overrides, n, 0.005, 0.07},
		{"small photos (target 4%)", small, n, 0.01, 0.09},
	} {
		if share := float64(c.got) / float64(c.of); share < c.min || share > c.max {
			t.Errorf("%s: %d of %d (%.3f), want %.2f-%.2f", c.what, c.got, c.of, share, c.min, c.max)
		}
	}
}

func urlOf(byURL map[string]jmap, m jmap) string {
	for u, x := range byURL {
		if fmt.Sprintf("%p", x) == fmt.Sprintf("%p", m) {
			return u
		}
	}
	return ""
}
