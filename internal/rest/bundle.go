package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// BundleOptions are the request-wide preferences of a batch or transaction.
type BundleOptions struct {
	// Return is the Prefer return preference applied to each entry:
	// "minimal", "OperationOutcome", or anything else for the resource.
	Return string
	// Strict is Prefer: handling=strict, for the searches of GET entries.
	Strict bool
}

// Bundle processes a batch or transaction Bundle posted to the base URL.
func (s *Service) Bundle(ctx context.Context, body []byte, opts BundleOptions) Response {
	b, r, ok := s.parseBundle(body)
	if !ok {
		return r
	}
	if b.typ == "transaction" {
		return s.transaction(ctx, b, opts)
	}
	return s.batch(ctx, b, opts)
}

// batch runs each entry on its own, in request order: one failing does not
// stop the others, and each entry's response carries its own status and,
// on failure, its OperationOutcome. References between entries are not
// resolved, as the spec says a batch has no interdependencies.
func (s *Service) batch(ctx context.Context, b *inBundle, opts BundleOptions) Response {
	out := s.newBundle("batch-response")
	out.Entry = make([]bundleEntry, len(b.entries))
	var touched []string
	for i := range b.entries {
		if err := ctx.Err(); err != nil {
			return s.internalError(ctx, "batch", err)
		}
		resp := s.batchEntry(ctx, &b.entries[i], opts)
		out.Entry[i] = s.responseEntry(resp, opts)
		touched = append(touched, resp.Touched...)
	}
	body, err := marshalBundle(out)
	if err != nil {
		return s.internalError(ctx, "batch response", err)
	}
	return Response{Status: http.StatusOK, Body: body, Touched: touched}
}

// batchEntry runs one batch entry through the interaction its method and
// url name, exactly as the same request on its own would run.
func (s *Service) batchEntry(ctx context.Context, e *inEntry, opts BundleOptions) Response {
	u, err := s.parseEntryURL(e.url)
	if err != nil {
		return entryFailure(e, fail(http.StatusBadRequest, fhir.CodeValue, err.Error()), "request.url")
	}
	body := []byte(e.resource)
	switch e.method {
	case http.MethodGet, http.MethodHead:
		rd, ok := s.readFor(u, SearchOptions{Strict: opts.Strict})
		if !ok {
			return entryFailure(e, fail(http.StatusBadRequest, fhir.CodeNotSupported,
				fmt.Sprintf("request.url %q names no read, search or history interaction", e.url)), "request.url")
		}
		return runRead(ctx, e, rd)
	case http.MethodPost:
		if len(u.segments) != 1 || u.hasQuery {
			return entryFailure(e, fail(http.StatusBadRequest, fhir.CodeValue,
				fmt.Sprintf("a POST entry's request.url must be a resource type, not %q", e.url)), "request.url")
		}
		if e.ifNoneExist != "" {
			return s.ConditionalCreate(ctx, u.segments[0], body, e.ifNoneExist)
		}
		return s.Create(ctx, u.segments[0], body)
	case http.MethodPut:
		if typ, id, ok := u.typeAndID(); ok {
			return s.Update(ctx, typ, id, body, e.ifMatch)
		}
		if typ, criteria, ok := u.conditional(); ok {
			return s.ConditionalUpdate(ctx, typ, criteria, body, e.ifMatch)
		}
	case http.MethodPatch:
		if typ, id, ok := u.typeAndID(); ok {
			return s.patch(ctx, typ, id, e.ifMatch, func(cur []byte) ([]byte, Response, bool) {
				return entryPatch(typ, e, cur)
			})
		}
	case http.MethodDelete:
		if typ, id, ok := u.typeAndID(); ok {
			return s.Delete(ctx, typ, id, e.ifMatch)
		}
		if typ, criteria, ok := u.conditional(); ok {
			return s.ConditionalDelete(ctx, typ, criteria)
		}
	}
	return entryFailure(e, fail(http.StatusBadRequest, fhir.CodeValue,
		fmt.Sprintf("a %s entry's request.url must be Type/id or Type?criteria, not %q", e.method, e.url)), "request.url")
}

// entryPatch applies a PATCH entry's patch: a Binary holding a JSON Patch,
// or a Parameters holding a FHIRPath Patch.
func entryPatch(typ string, e *inEntry, cur []byte) ([]byte, Response, bool) {
	switch e.resType {
	case "Binary":
		var bin struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
		}
		_ = json.Unmarshal(e.resource, &bin)
		patch, err := base64.StdEncoding.DecodeString(bin.Data)
		if err != nil || !strings.HasPrefix(bin.ContentType, "application/json-patch+json") {
			return nil, fail(http.StatusBadRequest, fhir.CodeInvalid,
				"a JSON Patch entry is a Binary with contentType application/json-patch+json and the patch as base64 data", e.path()+".resource"), false
		}
		return applyJSONPatch(typ, cur, patch)
	case "Parameters":
		return applyFHIRPathPatch(typ, cur, e.resource)
	}
	return nil, fail(http.StatusBadRequest, fhir.CodeInvalid,
		"a PATCH entry's resource is a Binary (JSON Patch) or a Parameters (FHIRPath Patch), not a "+e.resType, e.path()+".resource"), false
}

// responseEntry renders one entry of a batch-response or
// transaction-response from the interaction's Response.
func (s *Service) responseEntry(r Response, opts BundleOptions) bundleEntry {
	out := bundleEntry{Response: &entryResponse{Status: strconv.Itoa(r.Status) + " " + http.StatusText(r.Status)}}
	if r.Version != 0 {
		out.Response.ETag = ETag(r.Version)
	}
	if !r.LastUpdated.IsZero() {
		out.Response.LastModified = r.LastUpdated.UTC().Format(instantFormat)
	}
	if r.Location != "" {
		out.Response.Location = strings.TrimPrefix(r.Location, s.cfg.BaseURL+"/")
		if typ, rest, ok := strings.Cut(out.Response.Location, "/"); ok {
			id, _, _ := strings.Cut(rest, "/")
			out.FullURL = s.resourceURL(typ, id)
		}
	}
	switch {
	case !r.OK():
		if r.Body != nil && r.ContentType == "" {
			out.Response.Outcome = r.Body
		}
	case r.Body == nil || r.ContentType != "":
		// Nothing to embed: no body, or raw Binary content (a read of a
		// Binary in a Bundle comes back as the Binary resource instead).
	case opts.Return == "minimal":
	case opts.Return == "OperationOutcome" && r.Location != "":
		out.Response.Outcome = fhir.NewOutcome(fhir.SeverityInformation, fhir.CodeInformation,
			fmt.Sprintf("%s: version %d written", out.Response.Location, r.Version)).JSON()
	default:
		out.Resource = r.Body
	}
	return out
}

// parseCriteria reads conditional criteria ("identifier=x|y").
func parseCriteria(query string) (url.Values, error) {
	criteria, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("the criteria %q are not a query string: %v", query, err)
	}
	if len(criteria) == 0 {
		return nil, fmt.Errorf("the criteria are empty")
	}
	return criteria, nil
}
