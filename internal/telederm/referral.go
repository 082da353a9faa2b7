package telederm

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/rest"
)

// onReferral moves a referral on when the GP writes its ServiceRequest:
// draft to active submits it (triage, priority, the Task and its clock),
// revoked cancels it. Other status changes are the workflow's own.
func (w *Workflow) onReferral(ctx context.Context, c *rest.Commit, i int) error {
	ch := c.Changes()[i]
	if !ch.Deleted && !dermatologyIndexed(ch.Index) {
		return nil // not a referral: skip the reads and the decode
	}
	task, err := current(ctx, c, "Task", ch.ID)
	if err != nil {
		return err
	}
	from, ours := stateOf(task)
	if ch.Deleted {
		if ours && CanMove(from, StateCancelled) && from != StateCancelled {
			return w.setState(ctx, c, ch.ID, task, nil, StateCancelled, zeroTime)
		}
		return nil
	}
	sr, err := decodeChange(ch)
	if err != nil {
		return err
	}
	if !isReferral(sr) {
		return nil
	}
	orgs, err := w.accessFor(ctx, c, sr)
	if err != nil {
		return err
	}
	labelled := slices.Equal(accessOf(sr), orgs)
	setAccess(sr, orgs)
	var to State
	switch status := str(sr, "status"); status {
	case "draft":
		to = StateDraft
	case "active":
		switch from {
		case StateSubmitted, StateInReview:
			to = from // an edit of a referral under review
		default:
			to = StateSubmitted // refused below from a closed state
		}
	case "on-hold":
		if from != StateMoreInfo {
			return conflict("a referral is put on hold by advice with the outcome more-information, not by changing its status", "ServiceRequest.status")
		}
		to = from
	case "completed":
		if from != StateAdvice && from != StateConverted {
			return conflict("a referral is completed by issuing advice (a DiagnosticReport with an outcome code based on it), not by changing its status", "ServiceRequest.status")
		}
		to = from
	case "revoked", "entered-in-error":
		to = StateCancelled
	default:
		return conflict(fmt.Sprintf("a referral cannot have status %q", status), "ServiceRequest.status")
	}
	if !CanMove(from, to) {
		return moveError(from, to)
	}
	if to == StateSubmitted && from != StateSubmitted {
		return w.submit(ctx, c, i, sr, task) // writes the labels with the rest
	}
	if !labelled {
		if err := put(ctx, c, "ServiceRequest", ch.ID, sr); err != nil {
			return err
		}
	}
	if to == from && ours {
		if changed := syncTask(task, sr); changed {
			return w.setState(ctx, c, ch.ID, task, sr, to, zeroTime)
		}
		return nil
	}
	return w.setState(ctx, c, ch.ID, task, sr, to, zeroTime)
}

// syncTask reports whether the Task's copy of the referral's priority
// differs from the referral's.
func syncTask(task, sr doc) bool {
	return str(task, "priority") != str(sr, "priority")
}

// submit triages the referral in change i and starts its clock. Profile
// violations and missing required items refuse the whole commit with 422,
// naming each problem.
func (w *Workflow) submit(ctx context.Context, c *rest.Commit, i int, sr, task doc) error {
	id := c.Changes()[i].ID
	related, err := w.gather(ctx, c, id, sr)
	if err != nil {
		return err
	}
	o := &fhir.Outcome{ResourceType: "OperationOutcome"}
	w.checkProfiles(ctx, o, sr, related)
	a := w.cfg.Triage(sr, related)
	o.Issue = append(o.Issue, a.Blocking...)
	if o.HasErrors() {
		return &rest.Refusal{Status: http.StatusUnprocessableEntity, Outcome: o}
	}
	if a.Priority != "" {
		sr["priority"] = a.Priority
	}
	if a.Extension != nil {
		setExtension(sr, triageExtension, a.Extension)
	}
	if err := put(ctx, c, "ServiceRequest", id, sr); err != nil {
		return err
	}
	if err := labelRelated(ctx, c, related, accessOf(sr)); err != nil {
		return err
	}
	days := a.SLADays
	if days <= 0 {
		days = 3
	}
	return w.setState(ctx, c, id, task, sr, StateSubmitted, w.cfg.Calendar.Due(c.Now(), days))
}

// checkProfiles validates the referral and what it carries against the
// published profiles, whether or not they claim them: a submission must
// meet them. Each issue says which resource it is about.
func (w *Workflow) checkProfiles(ctx context.Context, o *fhir.Outcome, sr doc, related []doc) {
	pv := w.cfg.Profiles
	if pv == nil {
		return
	}
	check := func(url string, d doc) {
		if claims(d, url) {
			return // the server checked it against url when it was written
		}
		for _, is := range pv.Validate(ctx, url, d) {
			is.Diagnostics = fmt.Sprintf("%s/%s: %s", str(d, "resourceType"), str(d, "id"), is.Diagnostics)
			o.Issue = append(o.Issue, is)
		}
	}
	check(ProfileReferral, sr)
	subject := str(obj(sr, "subject"), "reference")
	for _, d := range related {
		switch str(d, "resourceType") {
		case "Patient":
			if "Patient/"+str(d, "id") == subject {
				check(ProfilePatient, d)
			}
		case "Media":
			check(ProfilePhoto, d)
		case "Observation":
			if hasCoding(d["code"], checklistSystem, "checklist") {
				check(ProfileChecklist, d)
			}
		}
	}
}

// claims reports whether d's meta.profile names url. A version claiming
// a published profile is checked against it on every write
// (rest.Config.Profiles), so checking it again would only cost.
func claims(d doc, url string) bool {
	for _, p := range list(obj(d, "meta"), "profile") {
		if p == url {
			return true
		}
	}
	return false
}

// labelRelated gives the referral's photos and observations (those based
// on it) the referral's access labels.
func labelRelated(ctx context.Context, c *rest.Commit, related []doc, orgs []string) error {
	for _, d := range related {
		typ := str(d, "resourceType")
		if !narrowedTypes[typ] || slices.Equal(accessOf(d), orgs) {
			continue
		}
		setAccess(d, orgs)
		if err := put(ctx, c, typ, str(d, "id"), d); err != nil {
			return err
		}
	}
	return nil
}

// onBasedOn labels a photo or observation written for a referral (after
// it was submitted, say) with the referral's access labels.
func (w *Workflow) onBasedOn(ctx context.Context, c *rest.Commit, i int) error {
	ch := c.Changes()[i]
	if ch.Deleted || !basedOnRequest(ch.Index) {
		return nil // most Observations are no referral's: skip the decode
	}
	d, err := viewChange(ch) // read only: most are labelled already
	if err != nil {
		return err
	}
	var orgs []string
	for _, r := range refs(d["basedOn"]) {
		typ, id, ok := localRef(r, w.cfg.BaseURL)
		if !ok || typ != "ServiceRequest" {
			continue
		}
		sr, err := currentView(ctx, c, typ, id)
		if err != nil {
			return err
		}
		if sr != nil && isReferral(sr) {
			orgs = append(orgs, accessOf(sr)...)
		}
	}
	if len(orgs) == 0 || slices.Equal(accessOf(d), orgs) {
		return nil
	}
	if d, err = decodeChange(ch); err != nil {
		return err
	}
	setAccess(d, orgs)
	return put(ctx, c, ch.Type, ch.ID, d)
}

// basedOnRequest reports, from a version's index entries, whether it is
// based on a ServiceRequest.
func basedOnRequest(es []search.Entry) bool {
	for _, e := range es {
		if e.Param == "based-on" && e.Kind == search.Reference && e.RefType == "ServiceRequest" {
			return true
		}
	}
	return false
}

// dermatologyIndexed reports, from a ServiceRequest's index entries,
// whether its performerType makes it a referral (isReferral on the body
// decides the same).
func dermatologyIndexed(es []search.Entry) bool {
	for _, e := range es {
		if e.Param == "performer-type" && e.Kind == search.Token && (e.System == snomed || e.System == "") &&
			(e.Code == dermatologist || e.Code == dermatologyService) {
			return true
		}
	}
	return false
}
