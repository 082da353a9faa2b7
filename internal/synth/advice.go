package synth

import "time"

// The consultant's answer to a referral: which outcome, how many working
// days it takes, and the telederm-advice DiagnosticReport that carries it.

// Advice outcome codes (advice-outcome code system).
const (
	OutcomeAdviceOnly      = "advice-only"
	OutcomeRoutine         = "routine-appointment"
	OutcomeUrgentCancer    = "urgent-suspected-cancer"
	OutcomeDirectProcedure = "direct-to-procedure"
	OutcomeMoreInformation = "more-information"
)

// outcomeMix is the chance of each outcome, in thousandths, for a referral
// the rules put on the suspected-cancer pathway and for one they did not.
// With about 14% of referrals suspected they give the published mix: 47%
// advice only, 12% urgent suspected cancer, 39% routine appointment, about
// 1% each straight to a procedure and more information (the last drawn
// first, for any referral: photos or history the consultant cannot use).
var outcomeMix = []struct {
	code                string
	suspected, standard int
}{
	{OutcomeUrgentCancer, 780, 18},
	{OutcomeDirectProcedure, 30, 7},
	{OutcomeRoutine, 140, 430},
	{OutcomeAdviceOnly, 50, 545},
}

// moreInformationShare is the chance that a referral is sent back for
// more information.
const moreInformationShare = 0.01

// AdviceOutcome draws the consultant's outcome for a referral; suspected
// is whether it went on the suspected-cancer pathway.
func (g *Generator) AdviceOutcome(suspected bool) string {
	if g.chance(moreInformationShare) {
		return OutcomeMoreInformation
	}
	r := g.intn(1000)
	for _, m := range outcomeMix {
		w := m.standard
		if suspected {
			w = m.suspected
		}
		if r < w {
			return m.code
		}
		r -= w
	}
	return OutcomeAdviceOnly
}

// answerDays is the chance, in percent, that the consultant answers k
// working days after the day of submission (0 the same day): usually 1-2
// working days, 85% within 3, a tail of up to 8.
var answerDays = []int{10, 38, 24, 13, 6, 4, 2, 2, 1}

// AnswerWorkingDays draws how many working days after the submission's day
// the consultant answers.
func (g *Generator) AnswerWorkingDays() int {
	r := g.intn(100)
	for k, p := range answerDays {
		if r < p {
			return k
		}
		r -= p
	}
	return len(answerDays) - 1
}

// Advice is what an advice report says and about which referral (literal
// references such as "ServiceRequest/12").
type Advice struct {
	Referral, Patient, Consultant string
	Issued                        time.Time
	Outcome                       string // an advice-outcome code
}

// adviceText is what a consultant writes for each outcome.
var adviceText = map[string][]string{
	OutcomeAdviceOnly: {
		"Benign appearance. Reassure; no hospital appointment needed. Re-refer if it changes.",
		"Seborrhoeic keratosis. Reassure; cryotherapy in primary care if troublesome.",
		"Benign melanocytic naevus. Monitor with photographs in 3 months.",
	},
	OutcomeRoutine:      {"Routine dermatology appointment for assessment and possible excision."},
	OutcomeUrgentCancer: {"Features of melanoma. Refer on the suspected skin cancer pathway.", "Likely squamous cell carcinoma. Fast-track referral."},
	OutcomeDirectProcedure: {
		"Likely basal cell carcinoma. Listed directly for excision.",
	},
	OutcomeMoreInformation: {"Images are too blurred to assess. Please send a sharper close-up and a regional view.", "Please add the history: duration, change and any bleeding."},
}

var outcomeDisplay = map[string]string{
	OutcomeAdviceOnly:      "Advice only",
	OutcomeRoutine:         "Routine appointment",
	OutcomeUrgentCancer:    "Urgent suspected cancer",
	OutcomeDirectProcedure: "Direct to procedure",
	OutcomeMoreInformation: "More information needed",
}

// AdviceReport is the consultant's telederm-advice DiagnosticReport for
// a, ready to POST.
func (g *Generator) AdviceReport(a Advice) []byte {
	return appendJSON(nil, append(obj{{"resourceType", "DiagnosticReport"}}, o(
		"meta", o("profile", []string{ProfileAdvice}),
		"basedOn", refs(a.Referral),
		"status", "final",
		"code", code{loinc, "11488-4", "Consult note"}.cc(),
		"subject", ref(a.Patient),
		"issued", a.Issued.UTC().Format("2006-01-02T15:04:05.000Z"),
		"performer", refs(a.Consultant),
		"conclusion", pick(g, adviceText[a.Outcome]),
		"conclusionCode", []obj{o("coding", []obj{o("system", AdviceOutcomeSystem, "code", a.Outcome, "display", outcomeDisplay[a.Outcome])})},
	)...))
}
