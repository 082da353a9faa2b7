package synth

import (
	"slices"
	"strings"
	"time"
)

// Encounters per clinical record.
const (
	minEncounters = 8
	maxEncounters = 12
)

// Synthea-style codes for the general record.
var (
	encounterTypes = []code{
		sct("185349003", "Encounter for check up"),
		sct("185345009", "Encounter for symptom"),
		sct("390906007", "Follow-up encounter"),
		sct("698314001", "Consultation for treatment"),
	}
	acuteConditions = []code{
		sct("444814009", "Viral sinusitis"),
		sct("195662009", "Acute viral pharyngitis"),
		sct("10509002", "Acute bronchitis"),
		sct("44465007", "Sprain of ankle"),
		sct("68566005", "Urinary tract infectious disease"),
		sct("65363002", "Otitis media"),
	}
	chronicConditions = []code{
		sct("59621000", "Essential hypertension"),
		sct("15777000", "Prediabetes"),
		sct("55822004", "Hyperlipidaemia"),
		sct("162864005", "Body mass index 30+ - obesity"),
		sct("40055000", "Chronic sinusitis"),
		sct("24079001", "Atopic dermatitis"),
	}
	procedures = []code{
		sct("430193006", "Medication reconciliation"),
		sct("710824005", "Assessment of health and social care needs"),
		sct("171207006", "Depression screening"),
		sct("428211000124100", "Assessment of substance use"),
		sct("117015009", "Throat culture"),
		sct("76601001", "Intramuscular injection"),
	}
	medications = []struct {
		drug    code
		dosage  string
		perDay  int
		chronic bool
	}{
		{code{rxnorm, "314076", "lisinopril 10 MG Oral Tablet"}, "10 mg once daily", 1, true},
		{code{rxnorm, "197361", "amlodipine 5 MG Oral Tablet"}, "5 mg once daily", 1, true},
		{code{rxnorm, "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"}, "500 mg once daily with the evening meal", 1, true},
		{code{rxnorm, "259255", "atorvastatin 80 MG Oral Tablet"}, "80 mg once daily at night", 1, true},
		{code{rxnorm, "308182", "amoxicillin 250 MG Oral Capsule"}, "250 mg three times daily for 5 days", 3, false},
		{code{rxnorm, "313782", "acetaminophen 325 MG Oral Tablet"}, "650 mg up to four times daily as needed", 4, false},
		{code{rxnorm, "849574", "naproxen sodium 220 MG Oral Tablet"}, "220 mg twice daily with food", 2, false},
	}
	vaccines = []code{
		{cvx, "140", "Influenza, seasonal, injectable, preservative free"},
		{cvx, "208", "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose"},
		{cvx, "113", "Td (adult) preservative free"},
		{cvx, "133", "Pneumococcal conjugate PCV 13"},
		{cvx, "121", "zoster"},
	}
	allergies = []struct {
		substance code
		category  string
	}{
		{sct("91935009", "Allergy to peanuts"), "food"},
		{sct("91930004", "Allergy to eggs"), "food"},
		{sct("300916003", "Latex allergy"), "environment"},
		{sct("418689008", "Allergy to grass pollen"), "environment"},
		{sct("419474003", "Allergy to mould"), "environment"},
		{sct("294505008", "Allergy to amoxicillin"), "medication"},
	}
	lipidPanel = []struct {
		loinc     code
		low, high float64
	}{
		{code{loinc, "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"}, 150, 260},
		{code{loinc, "2571-8", "Triglycerides [Mass/volume] in Serum or Plasma"}, 70, 240},
		{code{loinc, "18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay"}, 60, 180},
		{code{loinc, "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma"}, 35, 85},
	}
)

// ClinicalBundle is a general (Synthea-like) clinical record of one patient
// in a transaction of ClinicalEntries entries: the Patient, the practice
// and a GP, an AllergyIntolerance, 8 to 12 ambulatory Encounters each with
// its vital signs (height, weight, BMI, blood pressure, heart rate), a lipid
// panel with its DiagnosticReport at one encounter, and Conditions,
// Procedures, MedicationRequests and Immunizations spread over the
// encounters up to ClinicalEntries.
func (g *Generator) ClinicalBundle() []byte {
	b := &bundle{}
	g.clinical(b)
	return b.json()
}

// encounter is one visit and what it will record beyond vital signs.
type encounter struct {
	url        string
	start, end time.Time
	extras     []int // kinds of extra resource, see addExtra
	labs       bool  // the lipid panel is taken here
}

func (g *Generator) clinical(b *bundle) {
	visits := make([]encounter, g.between(minEncounters, maxEncounters))
	for i := range visits {
		visits[i].start = g.workingTime(epoch, windowDays)
	}
	slices.SortFunc(visits, func(x, y encounter) int { return x.start.Compare(y.start) })
	last := visits[len(visits)-1].start

	pr := g.addPractice(b, last)
	patient, who := g.addPatient(b, pr.orgURL, last, 18, 90)

	fixed := 3 + 1 + len(lipidPanel) + 1 // practice, GP, patient; allergy; lipid panel and its report
	visits[g.intn(len(visits))].labs = true
	for n := fixed + 6*len(visits); n < ClinicalEntries; n++ {
		v := &visits[g.intn(len(visits))]
		v.extras = append(v.extras, g.intn(100))
	}

	first := visits[0]
	b.add(g.urn(), "AllergyIntolerance", g.allergy(patient, pr, first.start))

	// Body measurements drift a little from visit to visit.
	height := g.uniform(152, 172)
	if who.gender == "male" {
		height += 13
	}
	weight := g.uniform(52, 115)
	for i := range visits {
		v := &visits[i]
		v.url = g.urn()
		v.end = v.start.Add(time.Duration(g.between(10, 40)) * time.Minute)
		typ := pick(g, encounterTypes)
		b.add(v.url, "Encounter", o(
			"status", "finished",
			"class", o("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code", "AMB", "display", "ambulatory"),
			"type", []obj{typ.cc()},
			"subject", ref(patient),
			"participant", []obj{o(
				"type", []obj{ccOf("v3-ParticipationType", "PPRF", "primary performer")},
				"period", o("start", dateTime(v.start), "end", dateTime(v.end)),
				"individual", ref(pr.gpURL),
			)},
			"period", o("start", dateTime(v.start), "end", dateTime(v.end)),
			"serviceProvider", ref(pr.orgURL),
		))
		weight += g.uniform(-1.5, 1.5)
		g.vitals(b, patient, v, height+g.uniform(-0.4, 0.4), weight)
		for _, k := range v.extras {
			g.addExtra(b, k, patient, pr, v)
		}
		if v.labs {
			g.labs(b, patient, pr, v)
		}
	}
}

func vitalSign(loincCode, display string, patient string, v *encounter, at time.Time) obj {
	return o(
		"status", "final",
		"category", []obj{ccOf("observation-category", "vital-signs", "Vital Signs")},
		"code", code{loinc, loincCode, display}.cc(),
		"subject", ref(patient),
		"encounter", ref(v.url),
		"effectiveDateTime", dateTime(at),
		"issued", dateTime(at),
	)
}

// vitals adds the encounter's five vital-sign Observations.
func (g *Generator) vitals(b *bundle, patient string, v *encounter, height, weight float64) {
	at := v.start.Add(time.Duration(g.between(1, 5)) * time.Minute)
	bmi := weight / (height / 100 * height / 100)
	b.add(g.urn(), "Observation", append(vitalSign("8302-2", "Body Height", patient, v, at),
		member{"valueQuantity", quantity(decimal(height, 1), "cm", "cm")}))
	b.add(g.urn(), "Observation", append(vitalSign("29463-7", "Body Weight", patient, v, at),
		member{"valueQuantity", quantity(decimal(weight, 1), "kg", "kg")}))
	b.add(g.urn(), "Observation", append(vitalSign("39156-5", "Body mass index (BMI) [Ratio]", patient, v, at),
		member{"valueQuantity", quantity(decimal(bmi, 2), "kg/m2", "kg/m2")}))
	systolic := g.between(104, 158)
	diastolic := g.between(62, min(98, systolic-30))
	b.add(g.urn(), "Observation", append(vitalSign("85354-9", "Blood pressure panel with all children optional", patient, v, at),
		member{"component", []obj{
			o("code", code{loinc, "8480-6", "Systolic blood pressure"}.cc(), "valueQuantity", quantity(dec(itoa(systolic)), "mm[Hg]", "mm[Hg]")),
			o("code", code{loinc, "8462-4", "Diastolic blood pressure"}.cc(), "valueQuantity", quantity(dec(itoa(diastolic)), "mm[Hg]", "mm[Hg]")),
		}}))
	b.add(g.urn(), "Observation", append(vitalSign("8867-4", "Heart rate", patient, v, at),
		member{"valueQuantity", quantity(dec(itoa(g.between(54, 98))), "/min", "/min")}))
}

// addExtra adds one Condition, Procedure, MedicationRequest or
// Immunization (k in [0, 100) picks which) recorded at encounter v.
func (g *Generator) addExtra(b *bundle, k int, patient string, pr practice, v *encounter) {
	at := v.start.Add(time.Duration(g.between(5, 25)) * time.Minute)
	switch {
	case k < 25:
		g.condition(b, patient, pr, v)
	case k < 55:
		end := at.Add(time.Duration(g.between(5, 20)) * time.Minute)
		b.add(g.urn(), "Procedure", o(
			"status", "completed",
			"code", pick(g, procedures).cc(),
			"subject", ref(patient),
			"encounter", ref(v.url),
			"performedPeriod", o("start", dateTime(at), "end", dateTime(end)),
			"performer", []obj{o("actor", ref(pr.gpURL))},
		))
	case k < 85:
		m := pick(g, medications)
		status := "completed"
		if m.chronic {
			status = "active"
		}
		b.add(g.urn(), "MedicationRequest", o(
			"status", status,
			"intent", "order",
			"medicationCodeableConcept", m.drug.cc(),
			"subject", ref(patient),
			"encounter", ref(v.url),
			"authoredOn", dateTime(at),
			"requester", ref(pr.gpURL),
			"dosageInstruction", []obj{o(
				"sequence", 1,
				"text", m.dosage,
				"timing", o("repeat", o("frequency", m.perDay, "period", dec("1"), "periodUnit", "d")),
				"asNeededBoolean", false,
				"doseAndRate", []obj{o("doseQuantity", o("value", dec("1")))},
			)},
		))
	default:
		b.add(g.urn(), "Immunization", o(
			"status", "completed",
			"vaccineCode", pick(g, vaccines).cc(),
			"patient", ref(patient),
			"encounter", ref(v.url),
			"occurrenceDateTime", dateTime(at),
			"primarySource", true,
			"lotNumber", string(rune('A'+g.intn(26)))+string(rune('A'+g.intn(26)))+g.digits(4),
			"site", o("coding", []obj{pick(g, []obj{
				o("system", termCS+"v3-ActSite", "code", "LA", "display", "left arm"),
				o("system", termCS+"v3-ActSite", "code", "RA", "display", "right arm"),
			})}),
			"route", o("coding", []obj{o("system", termCS+"v3-RouteOfAdministration", "code", "IM", "display", "Injection, intramuscular")}),
			"performer", []obj{o("actor", ref(pr.gpURL))},
		))
	}
}

func (g *Generator) condition(b *bundle, patient string, pr practice, v *encounter) {
	onset := v.start
	status, dx, abated := "active", pick(g, chronicConditions), ""
	if g.chance(0.6) {
		status, dx = "resolved", pick(g, acuteConditions)
		abated = dateTime(onset.AddDate(0, 0, g.between(5, 30)))
	}
	b.add(g.urn(), "Condition", o(
		"clinicalStatus", ccOf("condition-clinical", status, titleCase(status)),
		"verificationStatus", ccOf("condition-ver-status", "confirmed", "Confirmed"),
		"category", []obj{ccOf("condition-category", "encounter-diagnosis", "Encounter Diagnosis")},
		"code", dx.cc(),
		"subject", ref(patient),
		"encounter", ref(v.url),
		"onsetDateTime", dateTime(onset),
		"abatementDateTime", abated,
		"recordedDate", dateTime(onset),
		"asserter", ref(pr.gpURL),
	))
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// labs adds a lipid panel: its four results and the DiagnosticReport.
func (g *Generator) labs(b *bundle, patient string, pr practice, v *encounter) {
	taken := v.start.Add(time.Duration(g.between(10, 30)) * time.Minute)
	issued := taken.Add(time.Duration(g.between(20, 52)) * time.Hour)
	results := make([]string, len(lipidPanel))
	for i, t := range lipidPanel {
		results[i] = g.urn()
		b.add(results[i], "Observation", o(
			"status", "final",
			"category", []obj{ccOf("observation-category", "laboratory", "Laboratory")},
			"code", t.loinc.cc(),
			"subject", ref(patient),
			"encounter", ref(v.url),
			"effectiveDateTime", dateTime(taken),
			"issued", dateTime(issued),
			"valueQuantity", quantity(decimal(g.uniform(t.low, t.high), 1), "mg/dL", "mg/dL"),
		))
	}
	b.add(g.urn(), "DiagnosticReport", o(
		"status", "final",
		"category", []obj{o("coding", []obj{o("system", termCS+"v2-0074", "code", "LAB", "display", "Laboratory")})},
		"code", code{loinc, "57698-3", "Lipid panel with direct LDL - Serum or Plasma"}.cc(),
		"subject", ref(patient),
		"encounter", ref(v.url),
		"effectiveDateTime", dateTime(taken),
		"issued", dateTime(issued),
		"performer", refs(pr.orgURL),
		"result", refs(results...),
	))
}

func (g *Generator) allergy(patient string, pr practice, at time.Time) obj {
	a := pick(g, allergies)
	return o(
		"clinicalStatus", ccOf("allergyintolerance-clinical", "active", "Active"),
		"verificationStatus", ccOf("allergyintolerance-verification", "confirmed", "Confirmed"),
		"type", "allergy",
		"category", []string{a.category},
		"criticality", pick(g, []string{"low", "low", "high", "unable-to-assess"}),
		"code", a.substance.cc(),
		"patient", ref(patient),
		"recordedDate", dateTime(at),
		"recorder", ref(pr.gpURL),
		"reaction", []obj{o(
			"manifestation", []obj{pick(g, []code{sct("271807003", "Eruption of skin"), sct("247472004", "Wheal"), sct("267036007", "Dyspnoea"), sct("39579001", "Anaphylaxis")}).cc()},
			"severity", pick(g, []string{"mild", "moderate", "severe"}),
		)},
	)
}
