package rest

import (
	"context"
	"net/url"
)

// The audit trail lives outside the repository (Config.AuditTrail), so the
// caller's scopes are applied around it: a read's answer is screened, and a
// search gets the restriction as extra parameters (ANDed, as every
// distinct parameter is).

// screenAuditRead hides an audit record outside the caller's permit.
func (s *Service) screenAuditRead(ctx context.Context, p permit, id string, resp Response) Response {
	if !resp.OK() {
		return resp
	}
	if !p.open {
		ok, err := s.admits(ctx, p, &subject{typ: auditType, id: id, body: resp.Body}, nil)
		if err != nil {
			return s.internalError(ctx, "audit read", err)
		}
		if !ok {
			return notKnown(auditType, id)
		}
	}
	resp.Touched = []string{auditType + "/" + id}
	return resp
}

// searchAuditTrail runs a search of the audit trail within p.
func (s *Service) searchAuditTrail(ctx context.Context, p permit, params url.Values, strict bool) Response {
	res, r, ok := p.restrictionFor(params, nil)
	if !ok {
		return r
	}
	if res.patient != "" || len(res.params) > 0 {
		narrowed := url.Values{}
		for k, vs := range params {
			narrowed[k] = append([]string(nil), vs...)
		}
		if res.patient != "" {
			// AuditEvent's only Patient compartment parameter.
			narrowed.Add("patient", "Patient/"+res.patient)
		}
		for k, vs := range res.params {
			narrowed[k] = append(narrowed[k], vs...)
		}
		params = narrowed
	}
	return s.cfg.AuditTrail.SearchAuditEvents(ctx, params, strict)
}
