package telederm

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
)

// Operations are $triage (ServiceRequest, instance and type level) and
// $worklist (Task, type level). svc returns the Service they run on (it
// is built after them, with them in its configuration).
func (w *Workflow) Operations(service func() *rest.Service) []rest.Operation {
	return []rest.Operation{
		{Name: "triage", Type: "ServiceRequest", Definition: canonical + "OperationDefinition/ServiceRequest-triage",
			TypeLevel: true, InstanceLevel: true, Idempotent: true,
			Run: func(ctx context.Context, id string, params url.Values, body []byte) rest.Response {
				return w.triageOp(ctx, service(), id, body)
			}},
		{Name: "worklist", Type: "Task", Definition: canonical + "OperationDefinition/Task-worklist",
			TypeLevel: true, Idempotent: true,
			Run: func(ctx context.Context, _ string, params url.Values, _ []byte) rest.Response {
				return service().Search(ctx, "Task", WorklistQuery(params), rest.SearchOptions{})
			}},
	}
}

// WorklistQuery is the consultant worklist as one search: open referral
// Tasks, suspected cancer first, then by due date, with each referral, its
// patient, photos and checklist included. params may narrow it (owner,
// patient, _count) and are kept.
func WorklistQuery(params url.Values) url.Values {
	q := url.Values{}
	for k, v := range params {
		q[k] = append([]string(nil), v...)
	}
	if q.Get("status") == "" {
		q.Set("status", "requested,in-progress")
	}
	q.Set("business-status", stateSystem+"|"+string(StateSubmitted)+","+stateSystem+"|"+string(StateInReview))
	q.Set("_sort", "worklist-rank,due")
	q["_include"] = []string{"Task:focus", "Task:patient"}
	q["_revinclude:iterate"] = []string{"Media:based-on", "Observation:based-on"}
	return q
}

// triageOp answers $triage: on a stored referral (instance level: its
// resources as stored), or on a Bundle the GP system is about to submit
// (type level: the Bundle, or a Parameters whose "resource" is one).
func (w *Workflow) triageOp(ctx context.Context, svc *rest.Service, id string, body []byte) rest.Response {
	if id != "" {
		r := svc.Read(ctx, "ServiceRequest", id) // the caller's rights apply
		if !r.OK() {
			return r
		}
		sr, err := decode(r.Body)
		if err != nil || !isReferral(sr) {
			return opFail(http.StatusUnprocessableEntity, fhir.CodeNotSupported, "ServiceRequest/"+id+" is not a teledermatology referral (performerType dermatologist)", "ServiceRequest.performerType")
		}
		related, err := w.gatherStored(ctx, svc, id, sr)
		if err != nil {
			return opFail(http.StatusInternalServerError, fhir.CodeException, "triage failed")
		}
		return parametersResponse(w.cfg.Triage(sr, related).Parameters)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return opFail(http.StatusBadRequest, fhir.CodeRequired, "POST the referral Bundle (or a Parameters with it as \"resource\") to triage it before submission", "resource")
	}
	bundle, err := decode(body)
	if err != nil {
		return opFail(http.StatusBadRequest, fhir.CodeStructure, "the body is not JSON: "+err.Error())
	}
	if str(bundle, "resourceType") == "Parameters" {
		bundle = nil
		for _, p := range list(mustDoc(body), "parameter") {
			if pm, _ := p.(map[string]any); str(pm, "name") == "resource" {
				bundle = obj(pm, "resource")
			}
		}
		if bundle == nil {
			return opFail(http.StatusBadRequest, fhir.CodeRequired, "the Parameters has no \"resource\" parameter holding the referral Bundle", "Parameters.parameter")
		}
	}
	if str(bundle, "resourceType") != "Bundle" {
		return opFail(http.StatusBadRequest, fhir.CodeInvalid, "$triage at type level takes a Bundle holding the referral", "resourceType")
	}
	sr, related, o := referralFromBundle(bundle)
	if o != nil {
		return rest.Response{Status: http.StatusUnprocessableEntity, Body: o.JSON(), Outcome: o}
	}
	return parametersResponse(w.cfg.Triage(sr, related).Parameters)
}

func mustDoc(b []byte) doc { d, _ := decode(b); return d }

// referralFromBundle picks the one referral of a Bundle and the other
// entries, with references to the referral's fullUrl rewritten to
// ServiceRequest/<id> so triage can follow them.
func referralFromBundle(bundle doc) (doc, []doc, *fhir.Outcome) {
	var srAt = -1
	entries := list(bundle, "entry")
	for i, e := range entries {
		res := obj(e.(map[string]any), "resource")
		if str(res, "resourceType") == "ServiceRequest" && isReferral(res) {
			if srAt >= 0 {
				return nil, nil, fhir.NewOutcome(fhir.SeverityError, fhir.CodeNotSupported, "the Bundle holds more than one referral; triage them one at a time", "Bundle.entry")
			}
			srAt = i
		}
	}
	if srAt < 0 {
		return nil, nil, fhir.NewOutcome(fhir.SeverityError, fhir.CodeRequired, "the Bundle holds no teledermatology referral (a ServiceRequest with performerType dermatologist)", "Bundle.entry")
	}
	srEntry := entries[srAt].(map[string]any)
	id := str(obj(srEntry, "resource"), "id")
	if id == "" {
		id = "triage-preview"
	}
	raw, _ := json.Marshal(bundle)
	if full := str(srEntry, "fullUrl"); full != "" {
		raw = bytes.ReplaceAll(raw, []byte(`"`+full+`"`), []byte(`"ServiceRequest/`+id+`"`))
	}
	rewritten := mustDoc(raw)
	var sr doc
	var related []doc
	for i, e := range list(rewritten, "entry") {
		em, _ := e.(map[string]any)
		res := obj(em, "resource")
		if res == nil {
			continue
		}
		if _, has := res["id"]; !has {
			if full := str(em, "fullUrl"); full != "" {
				// Give entries an id so triage can tell them apart.
				res["id"] = strings.TrimPrefix(full, "urn:uuid:")
			}
		}
		if i == srAt {
			res["id"] = id
			sr = res
			continue
		}
		related = append(related, res)
	}
	return sr, related, nil
}

func parametersResponse(b []byte) rest.Response {
	return rest.Response{Status: http.StatusOK, Body: b}
}

func opFail(status int, code, diagnostics string, expression ...string) rest.Response {
	o := fhir.NewOutcome(fhir.SeverityError, code, diagnostics, expression...)
	return rest.Response{Status: status, Body: o.JSON(), Outcome: o}
}
