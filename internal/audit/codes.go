package audit

import "strings"

// Code systems of the rendered AuditEvents.
const (
	systemEventType    = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemDICOM        = "http://dicom.nema.org/resources/ontology/DCM"
	systemInteraction  = "http://hl7.org/fhir/restful-interaction"
	systemAction       = "http://hl7.org/fhir/audit-event-action"
	systemOutcome      = "http://hl7.org/fhir/audit-event-outcome"
	systemResourceType = "http://hl7.org/fhir/resource-types"
	systemEntityType   = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	systemObjectRole   = "http://terminology.hl7.org/CodeSystem/object-role"
	systemSourceType   = "http://terminology.hl7.org/CodeSystem/security-source-type"
	systemRoleType     = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
	// AuthStepSystem codes the subtype of authorization events: the
	// Event.Action itself (auth-token, auth-authorize ...). No standard
	// code system names these OAuth steps.
	AuthStepSystem = "urn:telederm:audit:auth-step"
)

// Event types: a FHIR interaction or a user authentication step.
const (
	typeRest = "rest"   // audit-event-type: RESTful Operation
	typeAuth = "110114" // DICOM: User Authentication
)

// coding is a Coding as the renderer writes it.
type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

var (
	restType = coding{System: systemEventType, Code: typeRest, Display: "RESTful Operation"}
	authType = coding{System: systemDICOM, Code: typeAuth, Display: "User Authentication"}
)

// interactions maps an Event.Action that is a FHIR interaction to its
// restful-interaction code and its AuditEvent.action. A compartment search
// is a search of one type, narrowed.
var interactions = map[string]struct{ subtype, action string }{
	"read":               {"read", "R"},
	"vread":              {"vread", "R"},
	"history-instance":   {"history-instance", "R"},
	"history-type":       {"history-type", "R"},
	"history-system":     {"history-system", "R"},
	"capabilities":       {"capabilities", "R"},
	"create":             {"create", "C"},
	"update":             {"update", "U"},
	"patch":              {"patch", "U"},
	"delete":             {"delete", "D"},
	"search-type":        {"search-type", "E"},
	"search-compartment": {"search-type", "E"},
	"search-system":      {"search-system", "E"},
	"transaction":        {"transaction", "E"},
	"batch":              {"batch", "E"},
	"operation":          {"operation", "E"},
}

// isAuth reports whether an Event.Action is an authorization step.
func isAuth(action string) bool { return strings.HasPrefix(action, "auth-") }

// classify returns an event's type, subtype (nil when the action is not
// one the server knows, such as a request no route matched) and action
// code.
func classify(action string) (typ coding, subtype *coding, act string) {
	if isAuth(action) {
		return authType, &coding{System: AuthStepSystem, Code: action}, "E"
	}
	if in, ok := interactions[action]; ok {
		return restType, &coding{System: systemInteraction, Code: in.subtype, Display: in.subtype}, in.action
	}
	return restType, nil, "E"
}
