package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/jsontree"
)

// identities maps what entries of a transaction call each other (their
// fullUrls: urn:uuid:, urn:oid: or absolute URLs) to the "Type/id" each
// resource is stored under.
type identities map[string]string

// conditionalRef matches a conditional reference such as
// "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919".
var conditionalRef = regexp.MustCompile(`^[A-Z][A-Za-z]+\?`)

// refRewriter rewrites the references of one transaction's resources.
type refRewriter struct {
	s   *Service
	ctx context.Context
	ids identities
	// resolved caches conditional references: each is searched once per
	// transaction, so all entries agree on its target. Entries are
	// rewritten concurrently, hence the lock.
	mu       sync.Mutex
	resolved map[string]string
}

// refError is a reference that cannot be resolved: the response to give
// and the path below the resource where it was found.
type refError struct {
	resp Response
	path []string // innermost last, built while unwinding
}

// rewrite replaces, everywhere in a resource (extensions and contained
// resources included): each reference to another entry by its fullUrl,
// relative references to entries under an absolute fullUrl, conditional
// references by their one match, and any other string (a uri, an
// Attachment.url, a narrative link) that is exactly an entry's urn:uuid or
// urn:oid fullUrl. raw is returned unchanged when it holds none of these.
// doc is the rewritten resource as JSON values when rewrite decoded it
// (for fhir.Codec.ParseTree), otherwise nil.
func (w *refRewriter) rewrite(raw json.RawMessage, fullURL string) (out json.RawMessage, doc map[string]any, _ *refError) {
	if !mayNeedRewrite(raw) {
		return raw, nil, nil
	}
	tree, decErr := jsontree.DecodeValue(raw) // decimals keep their exact digits
	if decErr != nil {
		return raw, nil, nil // the parser reports it, with its path
	}
	base := fullURLBase(fullURL)
	v, err := w.value(tree, base)
	if err != nil {
		return nil, nil, err
	}
	out, encErr := jsontree.Encode(v)
	if encErr != nil {
		return nil, nil, &refError{resp: fail(http.StatusInternalServerError, fhir.CodeException, "re-encoding a resource failed")}
	}
	doc, _ = v.(map[string]any)
	return out, doc, nil
}

// mayNeedRewrite is a cheap test that skips decoding resources with no
// reference and no urn.
func mayNeedRewrite(raw []byte) bool {
	return bytes.Contains(raw, []byte(`"reference"`)) || bytes.Contains(raw, []byte("urn:"))
}

func (w *refRewriter) value(v any, base string) (any, *refError) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			var (
				nv  any
				err *refError
			)
			switch s, isString := x.(string); {
			case k == "reference" && isString:
				nv, err = w.reference(s, base)
			case k == "div" && isString:
				nv = w.narrative(s)
			default:
				nv, err = w.value(x, base)
			}
			if err != nil {
				err.path = append(err.path, k)
				return nil, err
			}
			t[k] = nv
		}
		return t, nil
	case []any:
		for i, x := range t {
			nv, err := w.value(x, base)
			if err != nil {
				err.path = append(err.path, "["+strconv.Itoa(i)+"]")
				return nil, err
			}
			t[i] = nv
		}
		return t, nil
	case string:
		if strings.HasPrefix(t, "urn:") {
			if id, ok := w.ids[t]; ok {
				return id, nil
			}
		}
	}
	return v, nil
}

// reference resolves one Reference.reference.
func (w *refRewriter) reference(ref, base string) (any, *refError) {
	if id, ok := w.ids[ref]; ok {
		return id, nil
	}
	switch {
	case strings.HasPrefix(ref, "urn:uuid:") || strings.HasPrefix(ref, "urn:oid:"):
		return nil, &refError{resp: fail(http.StatusBadRequest, fhir.CodeNotFound,
			fmt.Sprintf("the reference %q is not the fullUrl of any entry of the transaction", ref))}
	case conditionalRef.MatchString(ref):
		return w.conditional(ref)
	case base != "" && !strings.Contains(ref, "://") && !strings.HasPrefix(ref, "#"):
		// A relative reference inside an entry whose fullUrl is absolute
		// is relative to that fullUrl's base.
		if id, ok := w.ids[base+ref]; ok {
			return id, nil
		}
	}
	return ref, nil
}

// conditional resolves "Type?criteria" to the one resource it matches.
func (w *refRewriter) conditional(ref string) (any, *refError) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if id, ok := w.resolved[ref]; ok {
		return id, nil
	}
	typ, query, _ := strings.Cut(ref, "?")
	criteria, err := url.ParseQuery(query)
	if err != nil || !fhir.IsResourceType(typ) {
		return nil, &refError{resp: fail(http.StatusBadRequest, fhir.CodeInvalid, fmt.Sprintf("the conditional reference %q is not a valid search", ref))}
	}
	found, r, ok := w.s.matches(w.ctx, typ, criteria, 1)
	if !ok {
		return nil, &refError{resp: r}
	}
	if len(found) != 1 {
		what := "no resource"
		if len(found) > 1 {
			what = "more than one resource"
		}
		return nil, &refError{resp: fail(http.StatusPreconditionFailed, fhir.CodeNotFound,
			fmt.Sprintf("the conditional reference %q matches %s; it must match exactly one", ref, what))}
	}
	id := typ + "/" + found[0].ID
	w.resolved[ref] = id
	return id, nil
}

// narrative rewrites links to entries inside the XHTML of a narrative.
func (w *refRewriter) narrative(div string) string {
	if !strings.Contains(div, "urn:") {
		return div
	}
	for from, to := range w.ids {
		if strings.HasPrefix(from, "urn:") && strings.Contains(div, from) {
			div = strings.ReplaceAll(div, `"`+from+`"`, `"`+to+`"`)
		}
	}
	return div
}

// fullURLBase is the service base of an absolute RESTful fullUrl
// ("http://x/fhir/Patient/1" -> "http://x/fhir/"), "" for others.
func fullURLBase(fullURL string) string {
	if !strings.HasPrefix(fullURL, "http://") && !strings.HasPrefix(fullURL, "https://") {
		return ""
	}
	u := strings.TrimRight(fullURL, "/")
	if i := strings.Index(u, "/_history/"); i >= 0 {
		u = u[:i]
	}
	for range 2 { // drop "/id" then "/Type"
		i := strings.LastIndexByte(u, '/')
		if i < 0 {
			return ""
		}
		u = u[:i]
	}
	return u + "/"
}

// fullURLIdentity is the "Type/id" an absolute RESTful fullUrl names, if
// it names one.
func fullURLIdentity(fullURL string) (string, bool) {
	base := fullURLBase(fullURL)
	if base == "" {
		return "", false
	}
	rest := strings.TrimPrefix(strings.TrimRight(fullURL, "/"), base)
	if i := strings.Index(rest, "/_history/"); i >= 0 {
		rest = rest[:i]
	}
	typ, id, ok := strings.Cut(rest, "/")
	if !ok || !fhir.IsResourceType(typ) || !validID(id) {
		return "", false
	}
	return typ + "/" + id, true
}

// parseInstantOrHTTPDate reads request.ifModifiedSince: a FHIR instant, or
// the HTTP date some clients copy from a header.
func parseInstantOrHTTPDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return http.ParseTime(s)
}
