package suite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	fhirJSON = "application/fhir+json"
	// maxBody bounds a response read into memory.
	maxBody = 64 << 20
)

// exchange is one request sent and the response that came back.
type exchange struct {
	method, url string
	reqHeader   http.Header
	reqBody     []byte
	reqJSON     map[string]any

	status int
	header http.Header
	body   []byte
	json   map[string]any
	// format is the non-JSON format ("xml") the operation asked for; the
	// runner sent JSON instead.
	format string
}

// operation runs one TestScript operation and says what was sent.
func (sr *scriptRun) operation(ctx context.Context, op *Operation) (Status, string) {
	ex, err := sr.prepare(op)
	if err != nil {
		return statusOf(err), err.Error()
	}
	if err := sr.send(ctx, ex); err != nil {
		return Error, fmt.Sprintf("%s %s: %v", ex.method, ex.url, err)
	}
	sr.keep(op, ex)
	msg := fmt.Sprintf("%s %s -> %d", ex.method, ex.url, ex.status)
	if ex.format != "" {
		msg += fmt.Sprintf(" (format %s asked for: the runner speaks JSON only and sent JSON)", ex.format)
	}
	return Pass, msg
}

// defaultMethod is the HTTP method of each TestScript operation code.
func defaultMethod(code string) string {
	switch code {
	case "read", "vread", "search", "history", "capabilities":
		return http.MethodGet
	case "create", "batch", "transaction", "validate":
		return http.MethodPost
	case "update", "updateCreate":
		return http.MethodPut
	case "patch":
		return http.MethodPatch
	case "delete", "deleteCondSingle", "deleteCondMultiple":
		return http.MethodDelete
	}
	return ""
}

// prepare builds the request of an operation.
func (sr *scriptRun) prepare(op *Operation) (*exchange, error) {
	code := op.code()
	if op.Destination != nil && *op.Destination != 1 {
		return nil, skipf("multisystem: destination %d is another server; the runner drives one server (destination 1)", *op.Destination)
	}
	if op.Origin != nil && *op.Origin != 1 {
		return nil, skipf("multisystem: origin %d is another client; the runner plays origin 1 only", *op.Origin)
	}
	method := strings.ToUpper(op.Method)
	if method == "" {
		method = defaultMethod(code)
	}
	if method == "" {
		return nil, skipf("operation type %q is not supported by the runner (give it a method and url)", code)
	}

	var body map[string]any
	if op.SourceID != "" {
		src, _, err := sr.source(op.SourceID, "")
		if err != nil {
			return nil, prefixErr("sourceId "+op.SourceID+": ", err)
		}
		if src == nil {
			return nil, failf("sourceId %s has no JSON body to send", op.SourceID)
		}
		v, err := sr.substJSON(src)
		if err != nil {
			return nil, err
		}
		body = v.(map[string]any)
	}
	typ, err := sr.subst(op.Resource)
	if err != nil {
		return nil, err
	}
	// A Binary fixture carries a body that is not a FHIR resource
	// (malformed JSON, a JSON Patch, a form): its content is sent, unless
	// the operation is about Binary resources themselves.
	rawBinary := body != nil && body["resourceType"] == "Binary" && typ != "Binary"
	if typ == "" && body != nil && !rawBinary && code != "batch" && code != "transaction" {
		typ, _ = body["resourceType"].(string)
	}
	u, builtID, err := sr.buildURL(op, code, typ, body)
	if err != nil {
		return nil, err
	}
	if op.EncodeRequestURL == nil || *op.EncodeRequestURL {
		u = encodeQuery(u)
	}
	// A fixture is a template: when the script names the id to update
	// (params, targetId), that id goes into the body, as TestScript engines
	// do, so one fixture can update any instance. An explicit url is sent
	// untouched, so a script can still test an id mismatch.
	if builtID != "" && (code == "update" || code == "updateCreate") && body != nil && body["resourceType"] == typ {
		body["id"] = builtID
	}

	ex := &exchange{method: method, url: u, reqHeader: http.Header{}}
	if body != nil {
		ctype := fhirJSON
		if rawBinary {
			ex.reqBody = []byte(decodeBase64(fmt.Sprint(body["data"])))
			if ct, ok := body["contentType"].(string); ok {
				ctype = ct
			}
		} else {
			ex.reqBody, _ = json.Marshal(body)
			ex.reqJSON = body
		}
		if op.ContentType != "" {
			var asked string
			ctype, asked = formatMime(op.ContentType)
			if asked != "" {
				ex.format = asked
			}
		}
		if ctype != "none" {
			ex.reqHeader.Set("Content-Type", ctype)
		}
	}
	accept := fhirJSON
	if op.Accept != "" {
		var asked string
		accept, asked = formatMime(op.Accept)
		if asked != "" {
			ex.format = asked
		}
	}
	if accept != "none" {
		ex.reqHeader.Set("Accept", accept)
	}
	for _, h := range op.RequestHeader {
		v, err := sr.subst(h.Value)
		if err != nil {
			return nil, err
		}
		ex.reqHeader.Set(h.Field, v)
	}
	// The token is for the server under test only, never for other hosts
	// (the runner's receiver, a Location pointing elsewhere).
	if sr.r.opts.Token != "" && sr.r.onServer(u) && ex.reqHeader.Get("Authorization") == "" {
		ex.reqHeader.Set("Authorization", "Bearer "+sr.r.opts.Token)
	}
	return ex, nil
}

// onServer reports whether u is on the server under test: the base URL
// itself (batches and transactions are POSTed there) or below it.
func (r *runner) onServer(u string) bool {
	rest, ok := strings.CutPrefix(u, r.base)
	return ok && (rest == "" || rest[0] == '/' || rest[0] == '?')
}

// formatMime maps TestScript format codes to the media type sent. XML and
// Turtle are asked for as JSON: the runner speaks JSON only, and says so
// (asked) so assertions about the format can be skipped.
func formatMime(code string) (mediaType, asked string) {
	switch c := strings.ToLower(strings.TrimSpace(code)); {
	case c == "json":
		return fhirJSON, ""
	case c == "none":
		return "none", ""
	case c == "xml", c == "ttl", c == "turtle", strings.Contains(c, "xml"), strings.Contains(c, "turtle"):
		return fhirJSON, c
	}
	return code, ""
}

// buildURL is the request URL of an operation. builtID is the instance id
// when the runner assembled the URL from params or targetId.
func (sr *scriptRun) buildURL(op *Operation, code, typ string, body map[string]any) (u, builtID string, err error) {
	base := sr.r.base
	if op.URL != "" {
		u, err := sr.subst(op.URL)
		if err != nil {
			return "", "", err
		}
		if !strings.Contains(u, "://") {
			u = base + "/" + strings.TrimLeft(u, "/")
		}
		return u, "", nil
	}
	typePath := base
	if typ != "" {
		typePath = base + "/" + typ
	}
	switch {
	case code == "capabilities":
		p, err := sr.subst(op.Params)
		return base + "/metadata" + p, "", err
	case code == "batch" || code == "transaction":
		return base, "", nil
	case op.Params != "":
		p, err := sr.subst(op.Params)
		if err != nil {
			return "", "", err
		}
		if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "?") {
			p = "/" + p
		}
		id := ""
		if path, _, _ := strings.Cut(p, "?"); typ != "" {
			segs := strings.Split(strings.Trim(path, "/"), "/")
			if len(segs) == 1 {
				id = segs[0]
			}
		}
		return typePath + p, id, nil
	case op.TargetID != "":
		ref, vid, err := sr.targetRef(op.TargetID)
		if err != nil {
			return "", "", err
		}
		u := base + "/" + ref
		switch code {
		case "vread":
			if vid == "" {
				return "", "", failf("targetId %s: no version is known for a vread", op.TargetID)
			}
			u += "/_history/" + vid
		case "history":
			u += "/_history"
		}
		_, id, _ := strings.Cut(ref, "/")
		return u, id, nil
	}
	switch code {
	case "create", "search", "":
		return typePath, "", nil
	case "validate":
		return typePath + "/$validate", "", nil
	case "history":
		return typePath + "/_history", "", nil
	case "update", "updateCreate":
		if id, _ := body["id"].(string); id != "" && typ != "" {
			return typePath + "/" + id, id, nil
		}
	}
	return "", "", failf("script error: operation %s needs a url, params or targetId", code)
}

// targetRef is the "Type/id" (and version, if known) of the resource a
// fixture stands for on the server.
func (sr *scriptRun) targetRef(id string) (ref, vid string, err error) {
	f, ok := sr.fixtures[id]
	switch {
	case !ok && sr.declares(id):
		return "", "", skipf("targetId %s: the operation that keeps it has not run", id)
	case !ok:
		return "", "", failf("script error: no fixture, requestId or responseId %q", id)
	case f.missing != "":
		return "", "", skipf("%s", f.missing)
	case f.serverRef != "":
		ref, vid, _ = strings.Cut(f.serverRef, "@")
		return ref, vid, nil
	case f.ex != nil:
		if ref, vid := responseRef(f.ex, sr.r.base); ref != "" {
			return ref, vid, nil
		}
		return "", "", failf("targetId %s: the response names no resource (no body id, no Location)", id)
	}
	t, _ := f.body["resourceType"].(string)
	i, _ := f.body["id"].(string)
	if t == "" || i == "" {
		return "", "", failf("targetId %s: the fixture has no resourceType and id", id)
	}
	return t + "/" + i, "", nil
}

// responseRef is the resource a response is about: from its body, else
// from its Location header, with the version when it says one.
func responseRef(ex *exchange, base string) (ref, vid string) {
	if ex.json != nil {
		t, _ := ex.json["resourceType"].(string)
		i, _ := ex.json["id"].(string)
		if t != "" && i != "" && t != "OperationOutcome" && t != "Bundle" {
			if meta, ok := ex.json["meta"].(map[string]any); ok {
				vid, _ = meta["versionId"].(string)
			}
			if vid == "" {
				vid = etagVersion(ex.header.Get("ETag"))
			}
			return t + "/" + i, vid
		}
	}
	if loc := ex.header.Get("Location"); loc != "" {
		return refFromLocation(loc, base)
	}
	return "", ""
}

// refFromLocation reads "Type/id" and the version from a Location such as
// http://host/fhir/Patient/1/_history/2 or Patient/1.
func refFromLocation(loc, base string) (ref, vid string) {
	if rest, ok := strings.CutPrefix(loc, base+"/"); ok {
		loc = rest
	} else if u, err := url.Parse(loc); err == nil {
		loc = u.Path
	}
	segs := strings.Split(strings.Trim(loc, "/"), "/")
	for i, s := range segs {
		if s == "_history" && i >= 2 {
			if i+1 < len(segs) {
				vid = segs[i+1]
			}
			return segs[i-2] + "/" + segs[i-1], vid
		}
	}
	if len(segs) >= 2 {
		return segs[len(segs)-2] + "/" + segs[len(segs)-1], ""
	}
	return "", ""
}

// etagVersion reads 3 from W/"3".
func etagVersion(etag string) string {
	return strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
}

// send makes the request and reads the response whole.
func (sr *scriptRun) send(ctx context.Context, ex *exchange) error {
	var rd io.Reader
	if ex.reqBody != nil {
		rd = bytes.NewReader(ex.reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, ex.method, ex.url, rd)
	if err != nil {
		return err
	}
	req.Header = ex.reqHeader.Clone()
	start := time.Now()
	resp, err := sr.r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	ex.body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	ex.status, ex.header = resp.StatusCode, resp.Header
	if bytes.HasPrefix(bytes.TrimSpace(ex.body), []byte("{")) {
		ex.json = decodeJSON(ex.body)
	}
	if sr.r.opts.Log != nil {
		fmt.Fprintf(sr.r.opts.Log, "%s %s -> %d (%s)\n", ex.method, ex.url, ex.status, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// keep records an exchange: as the last one, under the operation's
// responseId and requestId, and as where its source fixture now lives.
func (sr *scriptRun) keep(op *Operation, ex *exchange) {
	sr.last = ex
	if op.ResponseID != "" {
		sr.fixtures[op.ResponseID] = &fixture{id: op.ResponseID, ex: ex}
	}
	if op.RequestID != "" {
		sr.fixtures[op.RequestID] = &fixture{id: op.RequestID, ex: ex, request: true}
	}
	switch op.code() {
	case "create", "update", "updateCreate":
	default:
		return
	}
	f, ok := sr.fixtures[op.SourceID]
	if !ok || f.ex != nil || ex.status < 200 || ex.status > 299 {
		return
	}
	ref, vid := responseRef(ex, sr.r.base)
	if ref == "" && ex.method == http.MethodPut {
		ref, vid = refFromLocation(ex.url, sr.r.base)
		vid = etagVersion(ex.header.Get("ETag"))
	}
	if ref != "" {
		f.serverRef = ref
		if vid != "" {
			f.serverRef += "@" + vid
		}
	}
}

// encodeQuery percent-encodes the query of a URL (encodeRequestUrl): the
// script writes values as text ("identifier=urn:x|1", "date=ge2020-01-01T00:00:00+01:00")
// and the runner encodes what a URL cannot carry as is; %XX already there is
// kept, so encoded params are not encoded twice.
func encodeQuery(u string) string {
	head, q, ok := strings.Cut(u, "?")
	if !ok || q == "" {
		return u
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, v, hasValue := strings.Cut(p, "=")
		parts[i] = escapeQuery(k)
		if hasValue {
			parts[i] += "=" + escapeQuery(v)
		}
	}
	return head + "?" + strings.Join(parts, "&")
}

func escapeQuery(s string) string {
	const keep = "-._~:/@!$'()*,;"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(keep, c) >= 0:
			b.WriteByte(c)
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteString(s[i : i+3])
			i += 2
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// mediaType is a Content-Type without its parameters, lower case.
func mediaType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
}
