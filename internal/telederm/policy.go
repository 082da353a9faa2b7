package telederm

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/rest"
)

// accessSystem labels (meta.security) a referral's resources with the
// Organizations that may see them; referral-access indexes the labels, or
// "open" for resources no referral owns.
const (
	accessSystem = canonical + "referral-access"
	accessParam  = "referral-access"
	accessOpen   = "open"
)

// narrowedTypes are the types a referral's resources have.
var narrowedTypes = map[string]bool{
	"ServiceRequest": true, "Task": true, "DiagnosticReport": true, "Media": true, "Observation": true,
}

// Policy is the access policy of the service (profiles/README.md): a
// user-level token reaches a referral's resources only when its user
// belongs (by a PractitionerRole) to the GP practice or the dermatology
// service the referral is labelled with. It is a rest.AccessPolicy.
type Policy struct {
	service func() *rest.Service
	ttl     time.Duration
	mu      sync.Mutex
	orgs    map[string]cachedOrgs
}

type cachedOrgs struct {
	orgs []string
	at   time.Time
}

// NewPolicy returns the policy; service is the Service to look users'
// roles up in. A user's Organizations are cached for 30 seconds, so a
// change of role takes effect within that.
func NewPolicy(service func() *rest.Service) *Policy {
	return &Policy{service: service, ttl: 30 * time.Second, orgs: map[string]cachedOrgs{}}
}

// Narrowing implements rest.AccessPolicy.
func (p *Policy) Narrowing(ctx context.Context, g *access.Grant, typ string) url.Values {
	if !narrowedTypes[typ] {
		return nil
	}
	values := []string{accessOpen}
	for _, o := range p.orgsOf(ctx, g.FHIRUser) {
		values = append(values, accessSystem+"|"+o)
	}
	return url.Values{accessParam: {strings.Join(values, ",")}}
}

// orgsOf is the Organizations the user belongs to: through their
// PractitionerRoles, or the Organization itself.
func (p *Policy) orgsOf(ctx context.Context, fhirUser string) []string {
	if fhirUser == "" {
		return nil
	}
	p.mu.Lock()
	c, ok := p.orgs[fhirUser]
	p.mu.Unlock()
	if ok && time.Since(c.at) < p.ttl {
		return c.orgs
	}
	ctx = access.NewContext(ctx, nil)
	var orgs []string
	typ, id, _ := strings.Cut(strings.TrimPrefix(fhirUser, "/"), "/")
	var params url.Values
	switch typ {
	case "Organization":
		orgs = []string{"Organization/" + id}
	case "PractitionerRole":
		params = url.Values{"_id": {id}}
	case "Practitioner":
		params = url.Values{"practitioner": {"Practitioner/" + id}, "active:not": {"false"}}
	}
	if params != nil {
		roles, err := p.service().SystemSearch(ctx, "PractitionerRole", params)
		if err != nil {
			return nil // fail closed: the user reaches no referral this time
		}
		for _, v := range roles {
			d, err := decode(v.Body)
			if err != nil {
				continue
			}
			if o := str(obj(d, "organization"), "reference"); strings.HasPrefix(o, "Organization/") && !slices.Contains(orgs, o) {
				orgs = append(orgs, o)
			}
		}
	}
	p.mu.Lock()
	p.orgs[fhirUser] = cachedOrgs{orgs: orgs, at: time.Now()}
	p.mu.Unlock()
	return orgs
}

// setAccess replaces d's referral-access labels with orgs.
func setAccess(d doc, orgs []string) {
	meta := obj(d, "meta")
	if meta == nil {
		meta = doc{}
	}
	var keep []any
	for _, l := range list(meta, "security") {
		if lm, _ := l.(map[string]any); str(lm, "system") != accessSystem {
			keep = append(keep, l)
		}
	}
	for _, o := range orgs {
		keep = append(keep, doc{"system": accessSystem, "code": o})
	}
	if len(keep) == 0 {
		delete(meta, "security")
	} else {
		meta["security"] = keep
	}
	d["meta"] = meta
}

// accessOf reads d's referral-access labels.
func accessOf(d doc) []string {
	var out []string
	for _, l := range list(obj(d, "meta"), "security") {
		if lm, _ := l.(map[string]any); str(lm, "system") == accessSystem {
			out = append(out, str(lm, "code"))
		}
	}
	return out
}

// accessFor works out who may see a referral: its GP practice (the
// requester PractitionerRole's organization, else the patient's
// generalPractitioner Organization) and the dermatology service (its
// performer, else the configured owner).
func (w *Workflow) accessFor(ctx context.Context, c *rest.Commit, sr doc) ([]string, error) {
	var orgs []string
	add := func(o string) {
		if strings.HasPrefix(o, "Organization/") && !slices.Contains(orgs, o) {
			orgs = append(orgs, o)
		}
	}
	orgOf := func(ref string) (string, error) {
		typ, id, ok := localRef(ref, w.cfg.BaseURL)
		switch {
		case !ok:
			return "", nil
		case typ == "Organization":
			return "Organization/" + id, nil
		case typ == "PractitionerRole":
			role, err := current(ctx, c, typ, id)
			if err != nil || role == nil {
				return "", err
			}
			o, _, _ := strings.Cut(strings.TrimPrefix(str(obj(role, "organization"), "reference"), w.cfg.BaseURL+"/"), "|")
			return o, nil
		}
		return "", nil
	}
	practice, err := orgOf(str(obj(sr, "requester"), "reference"))
	if err != nil {
		return nil, err
	}
	if practice == "" {
		if typ, id, ok := localRef(str(obj(sr, "subject"), "reference"), w.cfg.BaseURL); ok && typ == "Patient" {
			patient, err := current(ctx, c, typ, id)
			if err != nil {
				return nil, err
			}
			for _, gp := range refs(patient["generalPractitioner"]) {
				if o, _ := orgOf(gp); o != "" {
					practice = o
					break
				}
			}
		}
	}
	add(practice)
	service := ""
	for _, p := range refs(sr["performer"]) {
		if service, err = orgOf(p); err != nil {
			return nil, err
		}
		if service != "" {
			break
		}
	}
	if service == "" {
		service = w.cfg.ServiceOwner
	}
	add(service)
	return orgs, nil
}
