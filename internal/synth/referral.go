package synth

import (
	"encoding/base64"
	"time"
)

// Canonical URLs of the teledermatology data model (profiles/README.md).
const (
	profileBase       = project + "StructureDefinition/"
	ProfilePatient    = profileBase + "telederm-patient"
	ProfileReferral   = profileBase + "telederm-referral"
	ProfilePhoto      = profileBase + "telederm-lesion-photo"
	ProfileChecklist  = profileBase + "telederm-seven-point-checklist"
	ProfileAdvice     = profileBase + "telederm-advice"
	ExtTriageOverride = profileBase + "triage-override"
	ExtTriageResult   = profileBase + "triage-result"

	RequestTypeSystem   = local + "request-type"
	PhotoViewSystem     = local + "photo-view"
	ChecklistSystem     = local + "seven-point-checklist"
	AdviceOutcomeSystem = local + "advice-outcome"
	PathwaySystem       = local + "triage-pathway"
	OverrideSystem      = local + "override-reason"
	ConsentTypeSystem   = local + "consent-type"
)

// Share of referrals whose GP overrides the rules' pathway, and whose
// photos are below the 800x600 floor (so triage asks for better ones).
const (
	overrideShare   = 0.03
	smallPhotoShare = 0.04
)

// ReferralBundle is one skin-lesion referral as a GP record system sends
// it, in a transaction of ReferralEntries entries, following
// profiles/README.md: the practice (Organization), the GP (Practitioner)
// and their PractitionerRole (the requester), the Patient, the
// ServiceRequest, three photos (Binary image/jpeg with a Media each), the
// 7-point checklist (one Observation), the Consent to photography, two
// Conditions (the lesion and a long-term condition) and a
// MedicationStatement.
func (g *Generator) ReferralBundle() []byte {
	b := &bundle{}
	g.acceptedReferral(b)
	return b.json()
}

// acceptedReferral adds one referral with its own practice to b, as a
// server that refuses photos below the quality floor accepts it: small
// photos are already retaken (the draw is kept, so the stream of a seed
// does not change).
func (g *Generator) acceptedReferral(b *bundle) {
	one := &bundle{}
	if info := g.referral(one, Referrer{}, g.workingTime(epoch, windowDays)); info.SmallPhotos {
		one.resizePhotos()
	}
	b.entries = append(b.entries, one.entries...)
}

// Referrer is where a referral comes from when the practice is already
// stored (literal references such as "Organization/12"). The zero value
// makes the referral carry a practice, GP and role of its own.
type Referrer struct {
	Organization string // the GP practice
	Practitioner string // the referring GP
	Role         string // the GP's PractitionerRole at the practice: the requester
	Service      string // the dermatology service (ServiceRequest.performer); optional
}

// Referral is a generated referral and what its generator knows of it.
type Referral struct {
	Bundle   []byte
	Authored time.Time
	// Score is the 7-point checklist score; Suspected is whether the
	// pathway rules should put it on the suspected-cancer pathway (score
	// 3 or more, suspected melanoma or SCC, a BCC on the face or scalp),
	// before any override.
	Score     int
	Suspected bool
	// Override is the pathway the GP chose against the rules ("" for none).
	Override string
	// SmallPhotos is set when the photos are below the 800x600 floor;
	// Retake is then the same referral with photos of the usual size, for
	// when the server refuses the first (image-size is required).
	SmallPhotos bool
	Retake      []byte
}

// ReferralFrom is one referral from an existing practice, authored at
// authored, in a transaction of ReferralEntries-3 entries (no practice,
// GP or role) with a new Patient.
func (g *Generator) ReferralFrom(r Referrer, authored time.Time) Referral {
	b := &bundle{}
	info := g.referral(b, r, authored)
	info.Bundle = b.json()
	if info.SmallPhotos {
		b.resizePhotos()
		info.Retake = b.json()
	}
	return info
}

// referral adds one referral to b: with its own practice when r is the zero
// Referrer.
func (g *Generator) referral(b *bundle, r Referrer, authored time.Time) Referral {
	if r.Organization == "" {
		pr := g.addPractice(b, authored)
		g.addRole(b, &pr)
		r = Referrer{Organization: pr.orgURL, Practitioner: pr.gpURL, Role: pr.roleURL}
	}
	patient, _ := g.addPatient(b, r.Organization, authored, 18, 95)

	les := g.lesion()
	site := pick(g, bodySites)
	srURL, checklistURL, consentURL := g.urn(), g.urn(), g.urn()
	lesionURL, historyURL, medURL := g.urn(), g.urn(), g.urn()

	var present [7]bool
	score := 0
	for i, f := range checklistFeatures {
		if present[i] = g.chance(les.pFeature[i]); present[i] {
			score += f.points
		}
	}
	info := Referral{Authored: authored, Score: score, Suspected: les.suspected(score, site)}
	var extensions []obj
	if g.chance(overrideShare) {
		var override obj
		override, info.Override = g.override(info.Suspected)
		extensions = []obj{override}
	}
	info.SmallPhotos = g.chance(smallPhotoShare)

	diameter := g.uniform(3, 14)
	b.add(srURL, "ServiceRequest", o(
		"meta", o("profile", []string{ProfileReferral}),
		"extension", extensions,
		"identifier", []obj{o("system", project+"Id/gp-referral", "value", "R"+g.digits(8))},
		"status", "active",
		"intent", "order",
		"category", []obj{sct("3457005", "Patient referral").cc()},
		// The GP does not pre-set fast track: the server triages.
		"priority", "routine",
		"code", o("coding", []obj{o("system", RequestTypeSystem, "code", "advice-and-guidance", "display", "Advice and guidance")}, "text", "Teledermatology advice and guidance"),
		"subject", ref(patient),
		"authoredOn", dateTime(authored),
		"requester", ref(r.Role),
		"performerType", sct("18803008", "Dermatologist").cc(),
		"performer", refs(nonEmpty(r.Service)...),
		"reasonCode", []obj{o("coding", []obj{les.dx.coding()}, "text", les.text+", "+string(decimal(diameter, 0))+" mm")},
		"reasonReference", refs(lesionURL),
		"bodySite", []obj{site.cc()},
		"supportingInfo", refs(checklistURL, consentURL, historyURL, medURL),
	))

	taken := authored.Add(-time.Duration(g.between(10, 60)) * time.Minute)
	for _, v := range photoViews {
		binURL, mediaURL := g.urn(), g.urn()
		photo := g.photo()
		b.add(binURL, "Binary", o(
			"contentType", "image/jpeg",
			"securityContext", ref(patient),
			"data", base64.StdEncoding.EncodeToString(photo),
		))
		width, height := v.width, v.height
		if info.SmallPhotos {
			width, height = 640, 480
		}
		b.add(mediaURL, "Media", o(
			"meta", o("profile", []string{ProfilePhoto}),
			"basedOn", refs(srURL),
			"status", "completed",
			"type", ccOf("media-type", "image", "Image"),
			"modality", o("coding", []obj{v.modality.coding()}),
			"view", o("coding", []obj{o("system", PhotoViewSystem, "code", v.view, "display", v.display)}),
			"subject", ref(patient),
			"createdDateTime", dateTime(taken.Add(time.Duration(g.between(0, 5))*time.Minute)),
			"operator", ref(r.Practitioner),
			"bodySite", site.cc(),
			"deviceName", pick(g, v.devices),
			"height", height,
			"width", width,
			"content", o("contentType", "image/jpeg", "url", binURL, "size", len(photo), "title", v.title),
		))
	}

	examined := authored.Add(-time.Duration(g.between(1, 9)) * time.Minute)
	components := make([]obj, len(checklistFeatures))
	for i, f := range checklistFeatures {
		components[i] = o(
			"code", o("coding", []obj{o("system", ChecklistSystem, "code", f.code, "display", f.display)}),
			"valueBoolean", present[i],
		)
	}
	b.add(checklistURL, "Observation", o(
		"meta", o("profile", []string{ProfileChecklist}),
		"basedOn", refs(srURL),
		"status", "final",
		"category", []obj{ccOf("observation-category", "exam", "Exam")},
		"code", o("coding", []obj{o("system", ChecklistSystem, "code", "checklist", "display", "Weighted 7-point checklist")}, "text", "Weighted 7-point checklist"),
		"subject", ref(patient),
		"effectiveDateTime", dateTime(examined),
		"performer", refs(r.Practitioner),
		"valueInteger", score,
		"bodySite", site.cc(),
		"component", components,
	))

	b.add(consentURL, "Consent", o(
		"status", "active",
		"scope", ccOf("consentscope", "treatment", "Treatment"),
		"category", []obj{o("coding", []obj{o("system", ConsentTypeSystem, "code", "clinical-photography", "display", "Clinical photography")})},
		"patient", ref(patient),
		"dateTime", dateTime(taken.Add(-time.Duration(g.between(1, 5))*time.Minute)),
		"performer", refs(patient),
		"organization", refs(r.Organization),
		"policyRule", ccOf("v3-ActCode", "OPTIN", "opt-in"),
		"provision", o("type", "permit", "purpose", []obj{o("system", "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code", "TREAT", "display", "treatment")}),
	))

	b.add(lesionURL, "Condition", o(
		"clinicalStatus", ccOf("condition-clinical", "active", "Active"),
		"verificationStatus", ccOf("condition-ver-status", "provisional", "Provisional"),
		"category", []obj{ccOf("condition-category", "problem-list-item", "Problem List Item")},
		"code", les.dx.cc(),
		"bodySite", []obj{site.cc()},
		"subject", ref(patient),
		"onsetDateTime", date(authored.AddDate(0, 0, -g.between(14, 400))),
		"recordedDate", dateTime(authored),
		"asserter", ref(r.Practitioner),
	))
	cm := pick(g, comorbidities)
	onset := authored.AddDate(-g.between(1, 20), -g.intn(12), 0)
	b.add(historyURL, "Condition", o(
		"clinicalStatus", ccOf("condition-clinical", "active", "Active"),
		"verificationStatus", ccOf("condition-ver-status", "confirmed", "Confirmed"),
		"category", []obj{ccOf("condition-category", "problem-list-item", "Problem List Item")},
		"code", cm.condition.cc(),
		"subject", ref(patient),
		"onsetDateTime", date(onset),
		"recordedDate", date(onset),
		"asserter", ref(r.Practitioner),
	))
	b.add(medURL, "MedicationStatement", o(
		"status", "active",
		"medicationCodeableConcept", cm.medicine.cc(),
		"subject", ref(patient),
		"effectivePeriod", o("start", date(onset.AddDate(0, 0, g.between(0, 60)))),
		"dateAsserted", dateTime(authored),
		"informationSource", ref(r.Practitioner),
		"reasonReference", refs(historyURL),
		"dosage", []obj{o("text", cm.dosage)},
	))
	return info
}

// override is a triage-override extension: a GP more concerned than the
// rules asks for fast track; one reassured by the history asks for
// routine. It returns the extension and the pathway chosen.
func (g *Generator) override(suspected bool) (obj, string) {
	pathway, reason, display := "suspected-cancer", "clinical-concern", "GP more concerned than the rules"
	if suspected {
		pathway, reason, display = "routine", "reassuring-history", "Reassuring history"
		if g.chance(0.3) {
			reason, display = "patient-factors", "Patient factors"
		}
	}
	return o("url", ExtTriageOverride, "extension", []obj{
		o("url", "reason", "valueCodeableConcept", o("coding", []obj{o("system", OverrideSystem, "code", reason, "display", display)})),
		o("url", "pathway", "valueCoding", o("system", PathwaySystem, "code", pathway)),
	}), pathway
}

// resizePhotos gives the Media of b the usual sizes of their views (in
// photoViews order, as referral adds them).
func (b *bundle) resizePhotos() {
	k := 0
	for _, e := range b.entries {
		res := e[1].val.(obj) // fullUrl, resource, request
		if res[0].val != "Media" {
			continue
		}
		for i := range res {
			switch res[i].key {
			case "width":
				res[i].val = photoViews[k].width
			case "height":
				res[i].val = photoViews[k].height
			}
		}
		k++
	}
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}

func (g *Generator) lesion() lesion {
	total := 0
	for _, l := range lesions {
		total += l.weight
	}
	r := g.intn(total)
	for _, l := range lesions {
		if r < l.weight {
			return l.lesion
		}
		r -= l.weight
	}
	return lesions[len(lesions)-1].lesion
}

// photo is a stand-in for a JPEG: the SOI and APP0 markers, a few hundred
// pseudo-random bytes and the EOI marker. It is not a decodable image.
func (g *Generator) photo() []byte {
	n := g.between(200, 600)
	p := make([]byte, 0, n+6)
	p = append(p, 0xFF, 0xD8, 0xFF, 0xE0)
	for range n {
		p = append(p, byte(g.rng.Uint32()))
	}
	return append(p, 0xFF, 0xD9)
}
