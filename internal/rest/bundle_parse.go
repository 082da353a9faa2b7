package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/jsontree"
)

// inBundle is a batch or transaction Bundle as received. Only the envelope
// is decoded here; each entry's resource stays raw JSON until its turn,
// when it is parsed and validated on its own (with the entry named in any
// issue).
type inBundle struct {
	typ     string // "batch" or "transaction"
	entries []inEntry
}

// inEntry is one Bundle.entry with its request.
type inEntry struct {
	index    int
	fullURL  string
	resource json.RawMessage // nil when the entry has none
	resType  string          // the resource's resourceType; "" when none
	method   string
	url      string
	// Conditional headers, as request.ifNoneMatch and friends.
	ifNoneMatch, ifModifiedSince, ifMatch, ifNoneExist string
}

// path is the FHIRPath of the entry, for issues.
func (e *inEntry) path() string { return fmt.Sprintf("Bundle.entry[%d]", e.index) }

// The elements each level of a Bundle may carry (R4), so that an unknown
// one is refused as the parser refuses it in any other resource. A
// primitive's "_name" sibling (its id and extensions) is allowed with it.
var (
	bundleElements = elementSet("resourceType", "id", "meta", "implicitRules", "language", "identifier",
		"type", "timestamp", "total", "link", "entry", "signature")
	entryElements   = elementSet("id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response")
	requestElements = elementSet("id", "extension", "modifierExtension", "method", "url",
		"ifNoneMatch", "ifModifiedSince", "ifMatch", "ifNoneExist")
	bundleMethods = elementSet(http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch)
)

func elementSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// DefaultMaxBundleEntries caps the entries of one batch or transaction when
// the configuration does not.
const DefaultMaxBundleEntries = 1000

// parseBundle decodes and checks the envelope of a batch or transaction.
// Every problem found is reported at once, each naming its element.
func (s *Service) parseBundle(body []byte) (*inBundle, Response, bool) {
	// jsontree checks the JSON once per level and hands out subslices;
	// json.Unmarshal scanned and copied every resource at every level.
	top, err := jsontree.RawObject(body)
	if err != nil {
		return nil, fail(http.StatusBadRequest, fhir.CodeStructure, "the body is not a JSON object ("+err.Error()+")"), false
	}
	var rt string
	if json.Unmarshal(top["resourceType"], &rt) != nil || rt != "Bundle" {
		return nil, fail(http.StatusBadRequest, fhir.CodeInvalid,
			"POST to the base URL takes a Bundle of type batch or transaction", "resourceType"), false
	}
	o := &fhir.Outcome{}
	unknownElements(o, top, bundleElements, "Bundle")
	b := &inBundle{}
	if json.Unmarshal(top["type"], &b.typ) != nil || (b.typ != "batch" && b.typ != "transaction") {
		o.Add(fhir.SeverityError, fhir.CodeValue,
			fmt.Sprintf("Bundle.type must be batch or transaction to be processed, not %s", orAbsent(top["type"])), "Bundle.type")
	}
	var entries []json.RawMessage
	if raw, ok := top["entry"]; ok {
		if entries, err = jsontree.RawArray(raw); err != nil {
			o.Add(fhir.SeverityError, fhir.CodeStructure, "Bundle.entry must be an array", "Bundle.entry")
		}
	}
	if max := s.maxBundleEntries(); len(entries) > max {
		return nil, fail(http.StatusRequestEntityTooLarge, fhir.CodeTooLong,
			fmt.Sprintf("the Bundle has %d entries, over the limit of %d", len(entries), max), "Bundle.entry"), false
	}
	b.entries = make([]inEntry, len(entries))
	for i, raw := range entries {
		b.entries[i] = parseEntry(o, i, raw)
	}
	if o.HasErrors() {
		return nil, failure(http.StatusBadRequest, o), false
	}
	return b, Response{}, true
}

func (s *Service) maxBundleEntries() int {
	if s.cfg.MaxBundleEntries > 0 {
		return s.cfg.MaxBundleEntries
	}
	return DefaultMaxBundleEntries
}

// parseEntry decodes one entry, adding its problems to o.
func parseEntry(o *fhir.Outcome, i int, raw json.RawMessage) inEntry {
	e := inEntry{index: i}
	at := e.path()
	m, err := jsontree.RawObject(raw)
	if err != nil {
		o.Add(fhir.SeverityError, fhir.CodeStructure, "an entry must be a JSON object", at)
		return e
	}
	unknownElements(o, m, entryElements, at)
	stringElement(o, m, "fullUrl", at, &e.fullURL)
	if res, ok := m["resource"]; ok {
		var resType string
		members, err := jsontree.RawObject(res)
		if err == nil {
			err = json.Unmarshal(members["resourceType"], &resType)
		}
		if err != nil || resType == "" {
			o.Add(fhir.SeverityError, fhir.CodeStructure, "the entry's resource must be a JSON object with a resourceType", at+".resource")
		} else {
			e.resource, e.resType = res, resType
		}
	}
	rawReq, ok := m["request"]
	if !ok {
		o.Add(fhir.SeverityError, fhir.CodeRequired, "each entry of a batch or transaction needs a request (method and url)", at+".request")
		return e
	}
	req, err := jsontree.RawObject(rawReq)
	if err != nil {
		o.Add(fhir.SeverityError, fhir.CodeStructure, "request must be a JSON object", at+".request")
		return e
	}
	at += ".request"
	unknownElements(o, req, requestElements, at)
	stringElement(o, req, "method", at, &e.method)
	stringElement(o, req, "url", at, &e.url)
	stringElement(o, req, "ifNoneMatch", at, &e.ifNoneMatch)
	stringElement(o, req, "ifModifiedSince", at, &e.ifModifiedSince)
	stringElement(o, req, "ifMatch", at, &e.ifMatch)
	stringElement(o, req, "ifNoneExist", at, &e.ifNoneExist)
	switch {
	case e.method == "":
		o.Add(fhir.SeverityError, fhir.CodeRequired, "request.method is required", at+".method")
	case !bundleMethods[e.method]:
		o.Add(fhir.SeverityError, fhir.CodeValue, fmt.Sprintf("request.method %q is not one of GET, HEAD, POST, PUT, PATCH, DELETE", e.method), at+".method")
	}
	if e.url == "" {
		o.Add(fhir.SeverityError, fhir.CodeRequired, "request.url is required", at+".url")
	}
	needsResource := e.method == http.MethodPost || e.method == http.MethodPut || e.method == http.MethodPatch
	if needsResource && e.resource == nil && !o.HasErrors() {
		o.Add(fhir.SeverityError, fhir.CodeRequired, fmt.Sprintf("a %s entry needs a resource", e.method), e.path()+".resource")
	}
	return e
}

// unknownElements reports the members of m that are not elements of the
// level (nor a primitive's "_name" sibling).
func unknownElements(o *fhir.Outcome, m map[string]json.RawMessage, allowed map[string]bool, at string) {
	for k := range m {
		if allowed[k] || (strings.HasPrefix(k, "_") && allowed[k[1:]]) {
			continue
		}
		o.Add(fhir.SeverityError, fhir.CodeStructure, fmt.Sprintf("unknown element %q", k), at+"."+k)
	}
}

// stringElement reads an optional string member.
func stringElement(o *fhir.Outcome, m map[string]json.RawMessage, name, at string, dst *string) {
	raw, ok := m[name]
	if !ok {
		return
	}
	if json.Unmarshal(raw, dst) != nil {
		o.Add(fhir.SeverityError, fhir.CodeStructure, name+" must be a string", at+"."+name)
	}
}

func orAbsent(raw json.RawMessage) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "absent"
	}
	return string(raw)
}
