package synth

import (
	"encoding/base64"
	"time"
)

// lesion is a working diagnosis a GP refers, with how likely each feature of
// the 7-point checklist is to be present and what the GP writes.
type lesion struct {
	dx       code
	pFeature [7]float64 // in checklistFeatures order
	text     string
	urgent   bool // on the suspected-cancer pathway whatever the score
}

var lesions = []struct {
	weight int
	lesion
}{
	{40, lesion{sct("400010006", "Melanocytic naevus of skin"), [7]float64{0.2, 0.15, 0.15, 0.2, 0.1, 0.02, 0.1}, "Pigmented lesion, patient concerned", false}},
	{15, lesion{sct("93655004", "Malignant melanoma of skin"), [7]float64{0.8, 0.7, 0.7, 0.6, 0.3, 0.2, 0.3}, "Changing pigmented lesion, irregular border", false}},
	{20, lesion{sct("254701007", "Basal cell carcinoma of skin"), [7]float64{0.3, 0.2, 0.1, 0.3, 0.3, 0.3, 0.1}, "Pearly nodule with telangiectasia, slowly enlarging", false}},
	{10, lesion{sct("254651007", "Squamous cell carcinoma of skin"), [7]float64{0.6, 0.4, 0.2, 0.6, 0.5, 0.4, 0.3}, "Non-healing crusted keratinising lesion with induration", true}},
	{15, lesion{sct("95324001", "Skin lesion"), [7]float64{0.3, 0.2, 0.2, 0.2, 0.3, 0.1, 0.2}, "Skin lesion of uncertain nature", false}},
}

// checklistFeatures is the weighted 7-point checklist (NICE NG12): three
// major features of 2 points, four minor of 1.
var checklistFeatures = [7]struct {
	code, display string
	points        int
}{
	{"change-in-size", "Change in size", 2},
	{"irregular-shape", "Irregular shape", 2},
	{"irregular-colour", "Irregular colour", 2},
	{"diameter-7mm", "Largest diameter 7 mm or more", 1},
	{"inflammation", "Inflammation", 1},
	{"oozing", "Oozing", 1},
	{"change-in-sensation", "Change in sensation", 1},
}

const checklistSystem = local + "seven-point-checklist"

// bodySites are where lesions are found, as SNOMED body structures.
var bodySites = []code{
	sct("77568009", "Back structure, excluding neck"),
	sct("89545001", "Face structure"),
	sct("41695006", "Scalp structure"),
	sct("45048000", "Neck structure"),
	sct("51185008", "Thoracic structure"),
	sct("368209003", "Right upper arm structure"),
	sct("368208006", "Left upper arm structure"),
	sct("14975008", "Forearm structure"),
	sct("85562004", "Hand structure"),
	sct("68367000", "Thigh structure"),
	sct("30021000", "Lower leg structure"),
	sct("56459004", "Foot structure"),
}

// comorbidities are long-term conditions with a medicine for each, for the
// referral's history.
var comorbidities = []struct {
	condition, medicine code
	dosage              string
}{
	{sct("59621000", "Essential hypertension"), sct("386864001", "Amlodipine"), "5 mg once daily"},
	{sct("44054006", "Diabetes mellitus type 2"), sct("109081006", "Metformin"), "500 mg twice daily with meals"},
	{sct("195967001", "Asthma"), sct("372897005", "Salbutamol"), "100 micrograms, 2 puffs as needed"},
	{sct("24079001", "Atopic dermatitis"), sct("396458002", "Hydrocortisone"), "Apply 1% cream thinly twice daily"},
	{sct("9014002", "Psoriasis"), sct("395954002", "Calcipotriol"), "Apply ointment once daily"},
	{sct("55822004", "Hyperlipidaemia"), sct("373444002", "Atorvastatin"), "20 mg once daily at night"},
	{sct("49436004", "Atrial fibrillation"), sct("698090000", "Apixaban"), "5 mg twice daily"},
	{sct("40930008", "Hypothyroidism"), sct("768532006", "Levothyroxine"), "75 micrograms once daily"},
}

// photoViews are the images a lesion needs: a close-up, a regional view
// showing the site, and a dermoscopic image.
var photoViews = [3]struct {
	view, title string
	modality    code
	devices     []string
}{
	{"close-up", "Close-up, about 20 cm, ruler for scale", code{dicom, "XC", "External-camera Photography"}, phones},
	{"regional", "Regional view showing the site", code{dicom, "XC", "External-camera Photography"}, phones},
	{"dermoscopic", "Dermoscopic image", code{dicom, "DMS", "Dermoscopy"}, []string{"DermLite DL5 on iPhone 14", "Heine iC1 on Galaxy S23"}},
}

const dicom = "http://dicom.nema.org/resources/ontology/DCM"

var phones = []string{"iPhone 14", "iPhone 15", "Galaxy S23", "Pixel 8", "Practice camera (Canon EOS R50)"}

// ReferralBundle is one skin-lesion referral as a GP record system sends
// it, in a transaction of ReferralEntries entries: the practice
// (Organization) and GP (Practitioner), the Patient, the ServiceRequest,
// three photos (Binary image/jpeg with a Media each), the seven
// Observations of the 7-point checklist, two Conditions (the lesion and a
// long-term condition) and a MedicationStatement.
func (g *Generator) ReferralBundle() []byte {
	b := &bundle{}
	g.referral(b)
	return b.json()
}

// referral adds one referral's ReferralEntries entries to b.
func (g *Generator) referral(b *bundle) {
	authored := g.workingTime(epoch, windowDays)
	pr := g.addPractice(b, authored)
	patient, _ := g.addPatient(b, pr, authored, 18, 95)

	les := g.lesion()
	site := pick(g, bodySites)
	srURL, lesionURL, historyURL, medURL := g.urn(), g.urn(), g.urn(), g.urn()
	var obsURLs [7]string
	for i := range obsURLs {
		obsURLs[i] = g.urn()
	}

	present := [7]bool{}
	score := 0
	for i, f := range checklistFeatures {
		if present[i] = g.chance(les.pFeature[i]); present[i] {
			score += f.points
		}
	}
	priority := "routine"
	if score >= 3 || les.urgent {
		priority = "urgent"
	}
	diameter := g.uniform(3, 14)
	b.add(srURL, "ServiceRequest", o(
		"identifier", []obj{o("system", project+"Id/gp-referral", "value", "R"+g.digits(8))},
		"status", "active",
		"intent", "order",
		"category", []obj{sct("3457005", "Patient referral").cc()},
		"priority", priority,
		"code", o("coding", []obj{sct("700241009", "Dermatology service").coding()}, "text", "Teledermatology referral"),
		"subject", ref(patient),
		"authoredOn", dateTime(authored),
		"requester", ref(pr.gpURL),
		"performerType", sct("18803008", "Dermatologist").cc(),
		"reasonCode", []obj{o("coding", []obj{les.dx.coding()}, "text", les.text+", "+string(decimal(diameter, 0))+" mm")},
		"reasonReference", refs(lesionURL),
		"bodySite", []obj{site.cc()},
		"supportingInfo", refs(append(obsURLs[:], historyURL, medURL)...),
		"note", []obj{o("text", "7-point checklist score "+itoa(score)+".")},
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
		width, height := 4032, 3024
		if v.view == "dermoscopic" {
			width, height = 1920, 1920
		}
		b.add(mediaURL, "Media", o(
			"basedOn", refs(srURL),
			"status", "completed",
			"type", ccOf("media-type", "image", "Image"),
			"modality", o("coding", []obj{v.modality.coding()}),
			"view", o("text", v.view),
			"subject", ref(patient),
			"createdDateTime", dateTime(taken.Add(time.Duration(g.between(0, 5))*time.Minute)),
			"operator", ref(pr.gpURL),
			"bodySite", site.cc(),
			"deviceName", pick(g, v.devices),
			"height", height,
			"width", width,
			"content", o("contentType", "image/jpeg", "url", binURL, "size", len(photo), "title", v.title),
		))
	}

	examined := authored.Add(-time.Duration(g.between(1, 9)) * time.Minute)
	for i, f := range checklistFeatures {
		b.add(obsURLs[i], "Observation", o(
			"basedOn", refs(srURL),
			"status", "final",
			"category", []obj{ccOf("observation-category", "exam", "Exam")},
			"code", o("coding", []obj{o("system", checklistSystem, "code", f.code, "display", f.display)}, "text", f.display),
			"subject", ref(patient),
			"effectiveDateTime", dateTime(examined),
			"performer", refs(pr.gpURL),
			"valueBoolean", present[i],
			"bodySite", site.cc(),
		))
	}

	b.add(lesionURL, "Condition", o(
		"clinicalStatus", ccOf("condition-clinical", "active", "Active"),
		"verificationStatus", ccOf("condition-ver-status", "provisional", "Provisional"),
		"category", []obj{ccOf("condition-category", "problem-list-item", "Problem List Item")},
		"code", les.dx.cc(),
		"bodySite", []obj{site.cc()},
		"subject", ref(patient),
		"onsetDateTime", date(authored.AddDate(0, 0, -g.between(14, 400))),
		"recordedDate", dateTime(authored),
		"asserter", ref(pr.gpURL),
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
		"asserter", ref(pr.gpURL),
	))
	b.add(medURL, "MedicationStatement", o(
		"status", "active",
		"medicationCodeableConcept", cm.medicine.cc(),
		"subject", ref(patient),
		"effectivePeriod", o("start", date(onset.AddDate(0, 0, g.between(0, 60)))),
		"dateAsserted", dateTime(authored),
		"informationSource", ref(pr.gpURL),
		"reasonReference", refs(historyURL),
		"dosage", []obj{o("text", cm.dosage)},
	))
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
