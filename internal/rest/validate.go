package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/jsontree"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// ProfileValidator checks resources against the profiles the server
// publishes (Config.Profiles).
type ProfileValidator interface {
	// Knows reports whether the validator has the profile with canonical
	// url (a "|version" suffix allowed).
	Knows(url string) bool
	// Validate checks a resource, already valid against the base R4
	// definitions, against a profile it knows. doc is the resource JSON
	// decoded with numbers kept as json.Number. Each issue's expression
	// is the FHIRPath of the element at fault.
	Validate(ctx context.Context, url string, doc map[string]any) []fhir.Issue
}

// noProfiles knows no profile.
type noProfiles struct{}

func (noProfiles) Knows(string) bool { return false }

func (noProfiles) Validate(context.Context, string, map[string]any) []fhir.Issue { return nil }

// profiles is the validator of the published profiles.
func (s *Service) profiles() ProfileValidator {
	if s.cfg.Profiles == nil {
		return noProfiles{}
	}
	return s.cfg.Profiles
}

// The modes of $validate (R4 resource-validation-mode); "" is a plain
// validation of the resource.
const (
	modeCreate  = "create"
	modeUpdate  = "update"
	modeDelete  = "delete"
	modeProfile = "profile"
)

// validateRequest is what $validate was asked, from the URL and the body.
type validateRequest struct {
	resource []byte // the resource JSON; nil when none was sent
	mode     string
	modeAt   string // where mode was given, for error messages
	profile  string
}

// Validate answers $validate at type level (id empty) or instance level.
// params are the URL parameters (mode, profile); body is the resource, a
// Parameters carrying it with mode and profile, or empty (mode=delete and
// mode=profile check the stored resource). Every finding about the
// resource comes back in a 200 OperationOutcome, as the spec says; only a
// request that cannot be understood gets a 4xx.
func (s *Service) Validate(ctx context.Context, typ, id string, body []byte, params url.Values) Response {
	if r, ok := s.checkType(typ); !ok {
		return r
	}
	p, r, ok := s.validatePermit(ctx, typ)
	if !ok {
		return r
	}
	if id != "" {
		if r, ok := s.checkID(typ, id); !ok {
			return r
		}
	}
	req, r, ok := readValidateRequest(typ, id, body, params)
	if !ok {
		return r
	}
	o := &fhir.Outcome{ResourceType: "OperationOutcome"}
	var touched []string
	switch req.mode {
	case modeDelete:
		// The spec: the content is ignored; the stored resource must exist.
		cur, r, ok := s.storedForValidate(ctx, p, o, typ, id)
		if !ok {
			return r
		}
		if cur != nil {
			touched = []string{typ + "/" + id}
		}
	case modeProfile:
		cur, r, ok := s.storedForValidate(ctx, p, o, typ, id)
		if !ok {
			return r
		}
		if cur != nil {
			touched = []string{typ + "/" + id}
			doc, err := decodeJSONObject(cur.Body)
			if err != nil {
				return s.internalError(ctx, "validate", fmt.Errorf("stored %s/%s: %w", typ, id, err))
			}
			res, po := s.codec.Parse(cur.Body)
			if po != nil {
				o.Issue = append(o.Issue, po.Issue...)
			}
			s.checkProfiles(ctx, o, typ, doc, res, req.profile)
		}
	default:
		doc, r, ok := resourceObject(typ, req.resource)
		if !ok {
			return r
		}
		res, po := s.codec.Parse(req.resource)
		if po != nil {
			o.Issue = append(o.Issue, po.Issue...)
		}
		resID, _ := doc["id"].(string)
		checkIDForMode(o, typ, id, resID, req.mode)
		s.checkProfiles(ctx, o, typ, doc, res, req.profile)
	}
	if !o.HasErrors() {
		o.Add(fhir.SeverityInformation, fhir.CodeInformation, validMessage(typ, id, req.mode, len(o.Issue) > 0))
	}
	return Response{Status: http.StatusOK, Body: o.JSON(), Touched: touched}
}

func validMessage(typ, id, mode string, warnings bool) string {
	var msg string
	switch mode {
	case modeDelete:
		msg = fmt.Sprintf("%s/%s can be deleted", typ, id)
	case modeProfile:
		msg = fmt.Sprintf("%s/%s is valid against the profile", typ, id)
	case "":
		msg = fmt.Sprintf("the %s is valid", typ)
	default:
		msg = fmt.Sprintf("the %s is valid for %s", typ, mode)
	}
	if warnings {
		msg += " (see the warnings)"
	}
	return msg
}

// readValidateRequest reads mode and profile from the URL, then the body:
// a Parameters (unless a Parameters resource is itself being validated)
// overrides them. It refuses combinations that cannot be validated.
func readValidateRequest(typ, id string, body []byte, params url.Values) (validateRequest, Response, bool) {
	req := validateRequest{mode: params.Get("mode"), modeAt: "mode", profile: params.Get("profile")}
	if len(bytes.TrimSpace(body)) > 0 {
		doc, err := decodeJSONObject(body)
		if err != nil {
			return req, fail(http.StatusBadRequest, fhir.CodeStructure, "the body is not a JSON object: "+err.Error()), false
		}
		if doc["resourceType"] == "Parameters" && (typ != "Parameters" || isValidateParameters(doc)) {
			if r, ok := readValidateParameters(doc, &req); !ok {
				return req, r, false
			}
		} else {
			req.resource = body
		}
	}
	switch req.mode {
	case "", modeCreate, modeUpdate:
		if req.resource == nil {
			return req, fail(http.StatusBadRequest, fhir.CodeRequired,
				"there is no resource to validate: POST it as the body, or as the resource parameter of a Parameters"), false
		}
	case modeDelete, modeProfile:
		if id == "" {
			return req, fail(http.StatusBadRequest, fhir.CodeRequired,
				fmt.Sprintf("mode=%s checks a stored resource: name it in the URL ([type]/[id]/$validate)", req.mode), req.modeAt), false
		}
		if req.mode == modeProfile && req.profile == "" {
			return req, fail(http.StatusBadRequest, fhir.CodeRequired, "mode=profile needs the profile to check against", "profile"), false
		}
		if req.mode == modeProfile && req.resource != nil {
			return req, fail(http.StatusBadRequest, fhir.CodeInvalid,
				"mode=profile checks the stored resource; send no resource (or use no mode to validate the one sent)"), false
		}
	default:
		return req, fail(http.StatusBadRequest, fhir.CodeValue,
			fmt.Sprintf("mode %q is not one of create, update, delete, profile", req.mode), req.modeAt), false
	}
	return req, Response{}, true
}

// isValidateParameters tells a Parameters that carries $validate's
// arguments from a Parameters resource to validate: it has a resource
// parameter and only $validate's parameters.
func isValidateParameters(doc map[string]any) bool {
	list, _ := doc["parameter"].([]any)
	hasResource := false
	for _, item := range list {
		p, _ := item.(map[string]any)
		switch p["name"] {
		case "resource":
			hasResource = true
		case "mode", "profile":
		default:
			return false
		}
	}
	return hasResource
}

// readValidateParameters reads resource, mode and profile from a
// Parameters body.
func readValidateParameters(doc map[string]any, req *validateRequest) (Response, bool) {
	list, ok := doc["parameter"].([]any)
	if !ok && doc["parameter"] != nil {
		return fail(http.StatusBadRequest, fhir.CodeStructure, "parameter must be an array", "Parameters.parameter"), false
	}
	for i, item := range list {
		at := fmt.Sprintf("Parameters.parameter[%d]", i)
		p, ok := item.(map[string]any)
		if !ok {
			return fail(http.StatusBadRequest, fhir.CodeStructure, "a parameter must be an object", at), false
		}
		name, _ := p["name"].(string)
		switch name {
		case "resource":
			raw, ok := p["resource"]
			if !ok {
				return fail(http.StatusBadRequest, fhir.CodeRequired, "the resource parameter carries no resource", at+".resource"), false
			}
			b, err := json.Marshal(raw)
			if err != nil {
				return fail(http.StatusBadRequest, fhir.CodeStructure, "the resource parameter could not be read", at+".resource"), false
			}
			req.resource = b
		case "mode":
			v, ok := p["valueCode"].(string)
			if !ok {
				return fail(http.StatusBadRequest, fhir.CodeRequired, "the mode parameter needs a valueCode", at+".valueCode"), false
			}
			req.mode, req.modeAt = v, at+".valueCode"
		case "profile":
			v, ok := p["valueUri"].(string)
			if !ok {
				v, ok = p["valueCanonical"].(string)
			}
			if !ok {
				return fail(http.StatusBadRequest, fhir.CodeRequired, "the profile parameter needs a valueUri or valueCanonical", at+".valueUri"), false
			}
			req.profile = v
		case "":
			return fail(http.StatusBadRequest, fhir.CodeRequired, "a parameter needs a name", at+".name"), false
		default:
			return fail(http.StatusBadRequest, fhir.CodeNotSupported,
				fmt.Sprintf("$validate has no parameter %q (it takes resource, mode and profile)", name), at+".name"), false
		}
	}
	return Response{}, true
}

// resourceObject decodes the resource to validate and checks it is of the
// URL's type: validating a resource against another type's URL is a
// request error, not a finding about the resource.
func resourceObject(typ string, raw []byte) (map[string]any, Response, bool) {
	doc, err := decodeJSONObject(raw)
	if err != nil {
		return nil, fail(http.StatusBadRequest, fhir.CodeStructure, "the resource is not a JSON object: "+err.Error()), false
	}
	rt, _ := doc["resourceType"].(string)
	if rt == "" {
		return nil, fail(http.StatusBadRequest, fhir.CodeRequired, "the resource has no resourceType", "resourceType"), false
	}
	if rt != typ {
		return nil, fail(http.StatusBadRequest, fhir.CodeInvalid,
			fmt.Sprintf("the resource is a %s but the URL is for %s", rt, typ), "resourceType"), false
	}
	return doc, Response{}, true
}

// checkIDForMode adds what create or update would say about the
// resource's id.
func checkIDForMode(o *fhir.Outcome, typ, urlID, resID, mode string) {
	switch mode {
	case modeCreate:
		if resID != "" {
			o.Add(fhir.SeverityWarning, fhir.CodeValue,
				fmt.Sprintf("the id %q would be ignored: the server assigns the id on create", resID), typ+".id")
		}
	case modeUpdate:
		switch {
		case resID == "":
			o.Add(fhir.SeverityError, fhir.CodeRequired, "the resource must carry its id for an update", typ+".id")
		case urlID != "" && resID != urlID:
			o.Add(fhir.SeverityError, fhir.CodeInvalid,
				fmt.Sprintf("the id in the resource (%q) differs from the id in the URL (%q)", resID, urlID), typ+".id")
		}
	}
}

// storedForValidate loads the resource that mode=delete or mode=profile
// is about. Its absence is a finding (an error issue), not a request
// error; cur is then nil. A resource outside the caller's permit is
// reported as absent, as a read would answer.
func (s *Service) storedForValidate(ctx context.Context, p permit, o *fhir.Outcome, typ, id string) (*store.Version, Response, bool) {
	absent := func() (*store.Version, Response, bool) {
		o.Add(fhir.SeverityError, fhir.CodeNotFound, fmt.Sprintf("%s/%s does not exist", typ, id), typ+".id")
		return nil, Response{}, true
	}
	cur, err := s.repo.Current(ctx, typ, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return absent()
	case err != nil:
		return nil, s.internalError(ctx, "validate", err), false
	case cur.Deleted:
		seen, err := s.visibleDeletion(ctx, p, typ, id, cur.VersionID)
		if err != nil {
			return nil, s.internalError(ctx, "validate", err), false
		}
		if !seen {
			return absent()
		}
		o.Add(fhir.SeverityError, fhir.CodeDeleted, fmt.Sprintf("%s/%s is deleted", typ, id), typ+".id")
		return nil, Response{}, true
	}
	ok, err := s.admits(ctx, p, versionSubject(cur), nil)
	if err != nil {
		return nil, s.internalError(ctx, "validate", err), false
	}
	if !ok {
		return absent()
	}
	return cur, Response{}, true
}

// validatePermit is the permit of $validate: it checks a resource for a
// create or an update and writes nothing, so the create or the update
// permit of the type will do (the update one when the caller has both and
// it is unconstrained, so a stored resource it examines is judged by the
// broader of the two).
func (s *Service) validatePermit(ctx context.Context, typ string) (permit, Response, bool) {
	up, _, uok := s.permitFor(ctx, typ, access.Update)
	cp, r, cok := s.permitFor(ctx, typ, access.Create)
	switch {
	case uok && (up.open || !cok):
		return up, Response{}, true
	case cok:
		return cp, Response{}, true
	}
	return permit{}, fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
		"$validate of %s needs a scope allowing create or update of it: %s", typ, r.Outcome.Issue[0].Diagnostics)), false
}

// checkProfiles validates against the profile asked for and those the
// resource claims (meta.profile); res is nil when the resource did not
// parse, and only the asked-for profile is then looked up. An asked-for
// profile the server does not know is an error: the client wanted that
// check and it cannot be done. A claimed one is a warning: the resource may
// be fine, it just was not checked against it.
func (s *Service) checkProfiles(ctx context.Context, o *fhir.Outcome, typ string, doc map[string]any, res *fhir.Resource, asked string) {
	pv := s.profiles()
	if asked != "" {
		switch {
		case !pv.Knows(asked):
			o.Add(fhir.SeverityError, fhir.CodeNotSupported, fmt.Sprintf("profile %q is not known to this server", asked), "profile")
		case res != nil:
			o.Issue = append(o.Issue, pv.Validate(ctx, asked, doc)...)
		}
	}
	if res == nil {
		return
	}
	meta, _ := doc["meta"].(map[string]any)
	claimed, _ := meta["profile"].([]any)
	for i, p := range claimed {
		url, _ := p.(string)
		if url == "" || url == asked {
			continue
		}
		if !pv.Knows(url) {
			o.Add(fhir.SeverityWarning, fhir.CodeNotSupported,
				fmt.Sprintf("the resource claims profile %q, which this server does not know; it was not checked against it", url),
				fmt.Sprintf("%s.meta.profile[%d]", typ, i))
			continue
		}
		o.Issue = append(o.Issue, pv.Validate(ctx, url, doc)...)
	}
}

// decodeJSONObject decodes one JSON object, keeping numbers as written.
func decodeJSONObject(b []byte) (map[string]any, error) { return jsontree.Decode(b) }
