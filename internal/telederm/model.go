package telederm

// Canonical URLs and codes of the data model (profiles/README.md).
const (
	canonical = "https://telederm.example/fhir/"

	stateSystem     = canonical + "CodeSystem/referral-state"
	outcomeSystem   = canonical + "CodeSystem/advice-outcome"
	flagSystem      = canonical + "CodeSystem/referral-flag"
	rankExtension   = canonical + "StructureDefinition/worklist-rank"
	triageExtension = canonical + "StructureDefinition/triage-result"

	ProfileReferral  = canonical + "StructureDefinition/telederm-referral"
	ProfilePatient   = canonical + "StructureDefinition/telederm-patient"
	ProfilePhoto     = canonical + "StructureDefinition/telederm-lesion-photo"
	ProfileChecklist = canonical + "StructureDefinition/telederm-seven-point-checklist"
	ProfileAdvice    = canonical + "StructureDefinition/telederm-advice"

	checklistSystem = canonical + "CodeSystem/seven-point-checklist"

	snomed            = "http://snomed.info/sct"
	dermatologist     = "18803008"
	dermatologyServic = "700241009"

	// FlagOverdue tags a referral's Task once its due date has passed
	// without advice; the referral-overdue topic fires on it.
	FlagOverdue = "overdue"
)

// State is a referral's state (the referral-state code system).
type State string

const (
	StateNone      State = "" // no Task yet
	StateDraft     State = "draft"
	StateSubmitted State = "submitted"
	StateInReview  State = "in-review"
	StateMoreInfo  State = "more-information-requested"
	StateAdvice    State = "advice-issued"
	StateConverted State = "converted-to-appointment"
	StateCancelled State = "cancelled"
)

// taskStatus and requestStatus are the Task and ServiceRequest statuses of
// each state.
var (
	taskStatus = map[State]string{
		StateDraft: "draft", StateSubmitted: "requested", StateInReview: "in-progress",
		StateMoreInfo: "on-hold", StateAdvice: "completed", StateConverted: "completed", StateCancelled: "cancelled",
	}
	requestStatus = map[State]string{
		StateDraft: "draft", StateSubmitted: "active", StateInReview: "active",
		StateMoreInfo: "on-hold", StateAdvice: "completed", StateConverted: "completed", StateCancelled: "revoked",
	}
	stateDisplay = map[State]string{
		StateDraft: "Draft", StateSubmitted: "Submitted", StateInReview: "In review",
		StateMoreInfo: "More information requested", StateAdvice: "Advice issued",
		StateConverted: "Converted to appointment", StateCancelled: "Cancelled",
	}
)

// transitions are the allowed moves; staying in a state is always allowed.
var transitions = map[State][]State{
	StateNone:      {StateDraft, StateSubmitted},
	StateDraft:     {StateSubmitted, StateCancelled},
	StateSubmitted: {StateInReview, StateMoreInfo, StateAdvice, StateConverted, StateCancelled},
	StateInReview:  {StateSubmitted, StateMoreInfo, StateAdvice, StateConverted, StateCancelled},
	StateMoreInfo:  {StateSubmitted, StateCancelled},
	StateAdvice:    {StateConverted},
}

// CanMove reports whether a referral may go from one state to another.
func CanMove(from, to State) bool {
	if from == to {
		return true
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// adviceState is the state an advice outcome code moves the referral to.
func adviceState(outcome string) (State, bool) {
	switch outcome {
	case "advice-only":
		return StateAdvice, true
	case "routine-appointment", "urgent-suspected-cancer", "direct-to-procedure":
		return StateConverted, true
	case "more-information":
		return StateMoreInfo, true
	}
	return "", false
}

// worklistRank orders the worklist: suspected cancer first, then urgent,
// then routine.
func worklistRank(priority string) int {
	switch priority {
	case "asap", "stat":
		return 0
	case "urgent":
		return 1
	}
	return 2
}
