package synth

import "slices"

// The clinical tables referrals are drawn from: working diagnoses with the
// 7-point checklist features they show, body sites, long-term conditions
// and the photos a lesion needs.

// lesion is a working diagnosis a GP refers, with how likely each feature of
// the 7-point checklist is to be present and what the GP writes.
type lesion struct {
	dx       code
	pFeature [7]float64 // in checklistFeatures order
	text     string
	// urgent: on the suspected-cancer pathway whatever the score (the
	// rules fast-track suspected melanoma and SCC); flagSites: on it when
	// found at one of these sites (BCC where delay could matter).
	urgent    bool
	flagSites []string
}

// suspected is whether the pathway rules (internal/telederm/triage's
// default rules.json) put this lesion at site with this checklist score on
// the suspected-cancer pathway.
func (l lesion) suspected(score int, site code) bool {
	return score >= 3 || l.urgent || slices.Contains(l.flagSites, site.code)
}

// faceAndScalp are the sites among bodySites where the rules fast-track a
// basal cell carcinoma.
var faceAndScalp = []string{"89545001", "41695006"}

// lesions are weighted so that about one referral in seven meets the
// suspected-cancer rules (the published service fast-tracked 12%).
var lesions = []struct {
	weight int
	lesion
}{
	{55, lesion{sct("400010006", "Melanocytic naevus of skin"), [7]float64{0.1, 0.06, 0.06, 0.15, 0.05, 0.01, 0.05}, "Pigmented lesion, patient concerned", false, nil}},
	{3, lesion{sct("93655004", "Malignant melanoma of skin"), [7]float64{0.8, 0.7, 0.7, 0.6, 0.3, 0.2, 0.3}, "Changing pigmented lesion, irregular border", true, nil}},
	{18, lesion{sct("254701007", "Basal cell carcinoma of skin"), [7]float64{0.12, 0.08, 0.04, 0.2, 0.1, 0.1, 0.03}, "Pearly nodule with telangiectasia, slowly enlarging", false, faceAndScalp}},
	{2, lesion{sct("254651007", "Squamous cell carcinoma of skin"), [7]float64{0.6, 0.4, 0.2, 0.6, 0.5, 0.4, 0.3}, "Non-healing crusted keratinising lesion with induration", true, nil}},
	{22, lesion{sct("95324001", "Skin lesion"), [7]float64{0.08, 0.06, 0.06, 0.12, 0.12, 0.04, 0.06}, "Skin lesion of uncertain nature", false, nil}},
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
// showing the site, and a dermoscopic image, with their usual pixel sizes.
var photoViews = [3]struct {
	view, display, title string
	modality             code
	devices              []string
	width, height        int
}{
	{"close-up", "Close-up", "Close-up, about 20 cm, ruler for scale", code{dicom, "XC", "External-camera Photography"}, phones, 4032, 3024},
	{"regional", "Regional", "Regional view showing the site", code{dicom, "XC", "External-camera Photography"}, phones, 4032, 3024},
	{"dermoscopic", "Dermoscopic", "Dermoscopic image", code{dicom, "DMS", "Dermoscopy"}, []string{"DermLite DL5 on iPhone 14", "Heine iC1 on Galaxy S23"}, 1920, 1920},
}

const dicom = "http://dicom.nema.org/resources/ontology/DCM"

var phones = []string{"iPhone 14", "iPhone 15", "Galaxy S23", "Pixel 8", "Practice camera (Canon EOS R50)"}
