package telederm

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
)

var zeroTime time.Time

// gather collects what triage needs about referral id: its patient, the
// conditions it gives as reasons, and the photos (Media, DocumentReference),
// observations (checklist, dermoscopy, consent) and consents around it,
// from the commit itself and from the store (the commit's versions win).
func (w *Workflow) gather(ctx context.Context, c *rest.Commit, id string, sr doc) ([]doc, error) {
	return w.collect(ctx, c, c, id, sr)
}

// gatherStored is gather for a stored referral, outside any commit (the
// $triage operation), read with the server's rights: the caller was
// allowed to read the referral, and only the triage result leaves.
func (w *Workflow) gatherStored(ctx context.Context, svc *rest.Service, id string, sr doc) ([]doc, error) {
	return w.collect(access.NewContext(ctx, nil), storedReader{svc}, nil, id, sr)
}

// reader is where gather finds resources: a commit (its own versions
// first), or the store.
type reader interface {
	Current(ctx context.Context, typ, id string) (*store.Version, error)
	Search(ctx context.Context, typ string, params url.Values) ([]store.Version, error)
}

type storedReader struct{ svc *rest.Service }

func (r storedReader) Current(ctx context.Context, typ, id string) (*store.Version, error) {
	resp := r.svc.Read(ctx, typ, id)
	if !resp.OK() {
		return nil, store.ErrNotFound
	}
	return &store.Version{Type: typ, ID: id, Body: resp.Body}, nil
}

func (r storedReader) Search(ctx context.Context, typ string, params url.Values) ([]store.Version, error) {
	return r.svc.SystemSearch(ctx, typ, params)
}

func (w *Workflow) collect(ctx context.Context, rd reader, c *rest.Commit, id string, sr doc) ([]doc, error) {
	srRef := "ServiceRequest/" + id
	subject := str(obj(sr, "subject"), "reference")
	byKey := map[string]doc{}
	var order []string
	add := func(d doc) {
		key := str(d, "resourceType") + "/" + str(d, "id")
		if _, seen := byKey[key]; !seen {
			order = append(order, key)
		}
		byKey[key] = d
	}
	// Stored first, then the commit's versions over them. Nothing stored
	// can point at a referral (or a patient) the commit creates, so those
	// searches are left out: a referral is usually submitted in the
	// transaction that creates it.
	type query struct {
		typ    string
		params url.Values
	}
	var searches []query
	if !createdHere(c, "ServiceRequest", id) {
		searches = append(searches,
			query{"Media", url.Values{"based-on": {srRef}}},
			query{"Observation", url.Values{"based-on": {srRef}}},
			query{"DocumentReference", url.Values{"related": {srRef}}})
	}
	if pt, pid, ok := localRef(subject, w.cfg.BaseURL); ok && pt == "Patient" && !createdHere(c, pt, pid) {
		searches = append(searches, query{"Consent", url.Values{"patient": {"Patient/" + pid}}})
	}
	for _, s := range searches {
		found, err := rd.Search(ctx, s.typ, s.params)
		if err != nil {
			return nil, err
		}
		for _, v := range found {
			if d, err := decode(v.Body); err == nil {
				add(d)
			}
		}
	}
	direct := refs(sr["reasonReference"])
	if subject != "" {
		direct = append(direct, subject)
	}
	for _, r := range direct {
		typ, rid, ok := localRef(r, w.cfg.BaseURL)
		if !ok {
			continue
		}
		v, err := rd.Current(ctx, typ, rid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if d, err := decode(v.Body); err == nil && !v.Deleted {
			add(d)
		}
	}
	var pending []store.Change
	if c != nil {
		pending = c.Changes()
	}
	for _, ch := range pending {
		if ch.Deleted || ch.Type == "Binary" {
			if ch.Deleted {
				delete(byKey, ch.Type+"/"+ch.ID)
			}
			continue
		}
		if !slices.Contains([]string{"Media", "Observation", "DocumentReference", "Consent", "Condition", "Patient"}, ch.Type) {
			continue
		}
		if !mayRelate(ch, srRef, subject, direct, w.cfg.BaseURL) {
			continue
		}
		d, err := decodeChange(ch)
		if err != nil || !relates(d, srRef, subject, direct, w.cfg.BaseURL) {
			continue
		}
		add(d)
	}
	out := make([]doc, 0, len(order))
	for _, k := range order {
		if d, ok := byKey[k]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// relates reports whether a resource in the commit belongs to the
// referral: based on it, related to it, its patient, one of its reasons,
// or a consent of its patient.
func relates(d doc, srRef, subject string, direct []string, base string) bool {
	key := str(d, "resourceType") + "/" + str(d, "id")
	if slices.Contains(direct, key) || slices.Contains(direct, base+"/"+key) {
		return true
	}
	matches := func(rs []string) bool {
		for _, r := range rs {
			if r == srRef || r == base+"/"+srRef {
				return true
			}
		}
		return false
	}
	switch str(d, "resourceType") {
	case "Media", "Observation":
		return matches(refs(d["basedOn"]))
	case "DocumentReference":
		return matches(refs(obj(d, "context")["related"]))
	case "Consent":
		return subject != "" && slices.Contains(refs(d["patient"]), subject)
	}
	return false
}

// mayRelate is a cheap test, on the bytes, that lets collect skip
// decoding the resources of a commit that cannot relate (most of a
// transaction carrying several referrals): one that relates is one of the
// direct references, or its body names the referral or, for a consent,
// the patient.
func mayRelate(ch store.Change, srRef, subject string, direct []string, base string) bool {
	key := ch.Type + "/" + ch.ID
	if slices.Contains(direct, key) || slices.Contains(direct, base+"/"+key) {
		return true
	}
	if bytes.Contains(ch.Body, []byte(srRef)) {
		return true
	}
	return ch.Type == "Consent" && subject != "" && bytes.Contains(ch.Body, []byte(subject))
}

// createdHere reports whether the commit creates typ/id (no version of it
// was stored before).
func createdHere(c *rest.Commit, typ, id string) bool {
	if c == nil {
		return false
	}
	i := c.Find(typ, id)
	return i >= 0 && c.Changes()[i].PrevVersion == 0
}
