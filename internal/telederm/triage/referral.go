package triage

// Feature states on the checklist.
type FeatureState int

const (
	Unknown FeatureState = iota // not recorded (no component, or no value)
	Present
	Absent
)

// Referral is what triage reads: a flat view of a referral and the
// resources around it (see FromResources for how FHIR maps onto it).
type Referral struct {
	// Checklist is true when a 7-point checklist Observation was found.
	Checklist bool
	Features  map[string]FeatureState // seven-point-checklist code -> state
	// ScoreGiven is the checklist's valueInteger, nil when absent.
	ScoreGiven *int

	// DermoscopyMelanoma: nil unknown, else whether dermoscopy suggests melanoma.
	DermoscopyMelanoma *bool
	DiagnosisCodes     []string // SNOMED CT codes: reasonCode and reasonReference Conditions
	BodySites          []string // SNOMED CT codes
	Texts              []string // free text: reasonCode.text, Condition.code.text, notes
	SizeMm             *float64 // largest lesion size in mm, nil when unknown

	Photos []Photo
	// DermatoscopeAvailable is an input flag from the practice, not FHIR.
	DermatoscopeAvailable bool
	Consent               bool

	Override *Override
}

// Photo is one lesion image.
type Photo struct {
	Source        string // "Media/1" or "DocumentReference/2#0", for messages
	View          string // photo-view code, "" when unknown
	Width, Height int    // pixels, 0 when unknown
	ContentType   string
}

// Override is the GP's triage-override extension.
type Override struct {
	Pathway    string // triage-pathway code
	Reason     string // override-reason code
	ReasonText string
}
