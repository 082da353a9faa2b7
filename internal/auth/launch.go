package auth

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// launchContext is what a GP system registered for one EHR launch.
type launchContext struct {
	Launcher    string            `json:"launcher"`  // the client that registered it
	AppClientID string            `json:"client_id"` // the app it is for; empty: any app registered for EHR launch
	FHIRUser    string            `json:"fhir_user"`
	Patient     string            `json:"patient,omitempty"`
	Encounter   string            `json:"encounter,omitempty"`
	FHIRContext []fhirContextItem `json:"fhir_context,omitempty"`
	NeedBanner  bool              `json:"need_banner"`
}

// launchRequest is the JSON body of POST /auth/launch.
type launchRequest struct {
	// Patient is the id of the patient in context, or PatientIdentifier
	// names them as system|value (the NHS number).
	Patient           string `json:"patient"`
	PatientIdentifier string `json:"patient_identifier"`
	// FHIRUser is the user the GP system vouches for (Practitioner/123).
	FHIRUser    string            `json:"fhirUser"`
	Encounter   string            `json:"encounter"`
	FHIRContext []fhirContextItem `json:"fhirContext"`
	// ClientID, when set, is the only app that may use the launch.
	ClientID          string `json:"client_id"`
	NeedPatientBanner *bool  `json:"need_patient_banner"`
	// Client authentication by assertion travels in the body (HTTP Basic
	// in the header works too).
	ClientAssertionType string `json:"client_assertion_type"`
	ClientAssertion     string `json:"client_assertion"`
}

// launchResponse answers a registered launch.
type launchResponse struct {
	Launch    string `json:"launch"`
	ExpiresIn int    `json:"expires_in"`
}

// launch is POST /auth/launch: a GP record system (a confidential client
// registered as a launcher) registers the context of an EHR launch and
// gets a single-use launch id, valid five minutes, to hand to the app.
func (s *Server) launch(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	lc, clientID, e := s.registerLaunch(w, r)
	if e != nil {
		s.recordError(r, actLaunch, clientID, e)
		writeOAuthError(w, e)
		return
	}
	id := randomToken(24)
	if err := insertJSON(s.state, kindLaunch, hashToken(id), lc, s.now().Add(launchTTL)); err != nil {
		s.log.Error("store launch", "err", err)
		e := errServer("the launch could not be stored")
		s.recordError(r, actLaunch, clientID, e)
		writeOAuthError(w, e)
		return
	}
	s.record(r, decision{action: actLaunch, status: http.StatusCreated, clientID: clientID,
		tc: &tokenContext{Subject: lc.FHIRUser, FHIRUser: lc.FHIRUser, Patient: lc.Patient}})
	writeJSON(w, http.StatusCreated, launchResponse{Launch: id, ExpiresIn: int(launchTTL.Seconds())})
}

func (s *Server) registerLaunch(w http.ResponseWriter, r *http.Request) (*launchContext, string, *oauthError) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return nil, "", errInvalidRequest("the launch request body must be application/json")
	}
	var req launchRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, "", errInvalidRequest("the launch request is not valid JSON of the expected shape: %v", err)
	}
	auth := url.Values{}
	for k, v := range map[string]string{"client_assertion_type": req.ClientAssertionType, "client_assertion": req.ClientAssertion} {
		if v != "" {
			auth.Set(k, v)
		}
	}
	c, method, e := s.authenticateClient(r, auth, s.url(pathLaunch))
	if e != nil {
		return nil, "", e
	}
	if method == authNone || !c.may(LaunchLauncher) {
		return nil, c.ID, errUnauthorizedClient("client %s is not registered to launch apps (launch type %q)", c.ID, LaunchLauncher)
	}
	lc := &launchContext{Launcher: c.ID, AppClientID: req.ClientID, FHIRUser: req.FHIRUser, Encounter: req.Encounter,
		FHIRContext: req.FHIRContext, NeedBanner: req.NeedPatientBanner == nil || *req.NeedPatientBanner}
	if err := validFHIRUser(req.FHIRUser); err != nil {
		return nil, c.ID, errInvalidRequest("fhirUser is required: %v", err)
	}
	switch {
	case req.Patient != "" && req.PatientIdentifier != "":
		return nil, c.ID, errInvalidRequest("give patient or patient_identifier, not both")
	case req.Patient != "":
		if !idPattern.MatchString(req.Patient) {
			return nil, c.ID, errInvalidRequest("patient %q is not a FHIR id", req.Patient)
		}
		lc.Patient = req.Patient
	case req.PatientIdentifier != "":
		id, e := s.findPatient(r, req.PatientIdentifier)
		if e != nil {
			return nil, c.ID, e
		}
		lc.Patient = id
	}
	if lc.Encounter != "" && !idPattern.MatchString(lc.Encounter) {
		return nil, c.ID, errInvalidRequest("encounter %q is not a FHIR id", lc.Encounter)
	}
	for _, fc := range lc.FHIRContext {
		typ, id, ok := strings.Cut(fc.Reference, "/")
		if !ok || typ == "" || !idPattern.MatchString(id) {
			return nil, c.ID, errInvalidRequest("fhirContext reference %q must be Type/id", fc.Reference)
		}
	}
	return lc, c.ID, nil
}

// findPatient resolves system|value through the configured search.
func (s *Server) findPatient(r *http.Request, ident string) (string, *oauthError) {
	system, value, ok := strings.Cut(ident, "|")
	if !ok || system == "" || value == "" {
		return "", errInvalidRequest("patient_identifier must be system|value (e.g. https://fhir.nhs.uk/Id/nhs-number|9434765919)")
	}
	if s.cfg.FindPatient == nil {
		return "", errInvalidRequest("this server cannot look patients up by identifier: give the patient id")
	}
	id, err := s.cfg.FindPatient(r.Context(), system, value)
	if errors.Is(err, ErrNoPatient) {
		return "", errInvalidRequest("no single patient has that identifier")
	}
	if err != nil {
		s.log.Error("find patient for launch", "err", err)
		return "", errServer("the patient could not be looked up")
	}
	return id, nil
}

// takeLaunch uses a launch id once: the insert of its used marker decides
// between two processes, then the launch goes.
func (s *Server) takeLaunch(id string, now time.Time) (lc *launchContext, ok, expired bool, err error) {
	h := hashToken(id)
	var l launchContext
	found, exp, err := getJSON(s.state, kindLaunch, h, &l, now)
	if err != nil || !found {
		return nil, false, false, err
	}
	if exp {
		return nil, false, true, deleteRecord(s.state, kindLaunch, h)
	}
	won, err := claim(s.state, kindLaunchUsed, h, now.Add(launchTTL))
	if err != nil || !won {
		return nil, false, false, err
	}
	return &l, true, false, deleteRecord(s.state, kindLaunch, h)
}
