package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// metaLists is the part of Meta that $meta reports and $meta-add and
// $meta-delete change. Codings stay as decoded JSON objects so that
// display, version, userSelected and extensions survive untouched.
type metaLists struct {
	Profile  []string         `json:"profile,omitempty"`
	Security []map[string]any `json:"security,omitempty"`
	Tag      []map[string]any `json:"tag,omitempty"`
}

// metaParameters is the Parameters $meta, $meta-add and $meta-delete
// return: one parameter "return" with the meta.
type metaParameters struct {
	ResourceType string          `json:"resourceType"`
	Parameter    []metaParameter `json:"parameter"`
}

type metaParameter struct {
	Name      string    `json:"name"`
	ValueMeta metaLists `json:"valueMeta"`
}

// Meta answers $meta at instance level (typ and id), type level (typ) or
// system level (neither). An instance's meta is its current version's; a
// type's or the system's is the union of what current resources carry.
func (s *Service) Meta(ctx context.Context, typ, id string) Response {
	if id != "" {
		if r, ok := s.checkType(typ); !ok {
			return r
		}
		p, r, ok := s.permitFor(ctx, typ, access.Read)
		if !ok {
			return r
		}
		cur, r, ok := s.current(ctx, typ, id)
		if !ok {
			return s.screenGone(ctx, p, typ, id, r)
		}
		if r, ok := s.visible(ctx, p, cur); !ok {
			return r
		}
		m, err := storedMeta(cur.Body)
		if err != nil {
			return s.internalError(ctx, "meta", err)
		}
		out := s.metaResponse(ctx, m, cur.VersionID, cur.LastUpdated)
		out.Touched = []string{typ + "/" + id}
		return out
	}
	if typ != "" {
		if r, ok := s.checkType(typ); !ok {
			return r
		}
	}
	if r, ok := s.metaInUseAllowed(ctx, typ); !ok {
		return r
	}
	sum, err := s.repo.MetaInUse(ctx, typ)
	if err != nil {
		return s.internalError(ctx, "meta", err)
	}
	m := metaLists{Profile: sum.Profiles, Tag: codingObjects(sum.Tags), Security: codingObjects(sum.Security)}
	// A type's or the system's meta has no version of its own.
	return s.metaResponse(ctx, m, 0, time.Time{})
}

// metaInUseAllowed lets the meta in use across a type (or every type,
// typ "") be read only by a caller who may search all of it: the codes
// summarise every resource, and a token confined to one patient or one
// category must not learn the labels of the others.
func (s *Service) metaInUseAllowed(ctx context.Context, typ string) (Response, bool) {
	what := typ
	if typ == "" {
		typ, what = "*", "every type"
	}
	p, r, ok := s.permitFor(ctx, typ, access.Search)
	if !ok {
		return r, false
	}
	if !p.open {
		return fail(http.StatusForbidden, fhir.CodeForbidden, fmt.Sprintf(
			"the meta in use across %s summarises resources outside this token's scopes (%s); ask for the $meta of one resource instead", what, p.describe())), false
	}
	return Response{}, true
}

// MetaAdd answers $meta-add: the profiles, tags and security labels of the
// Parameters body that the resource lacks are added (codings compare by
// system and code).
func (s *Service) MetaAdd(ctx context.Context, typ, id string, body []byte) Response {
	return s.changeMeta(ctx, typ, id, body, addMeta)
}

// MetaDelete answers $meta-delete: the profiles, tags and security labels
// of the Parameters body are removed from the resource.
func (s *Service) MetaDelete(ctx context.Context, typ, id string, body []byte) Response {
	return s.changeMeta(ctx, typ, id, body, deleteMeta)
}

// changeMeta applies edit to the current version's meta.
//
// Some servers change meta in place, without a new version id, as the spec
// permits for these operations. Here every stored change is a version:
// history and the version-keyed index rely on it, and subscriptions see the
// change. So a change is written as a new version through the same
// compare-and-set path updates take (retrying lost races, refreshing the
// index), recorded as a PATCH in history. When edit changes nothing, no
// version is written.
func (s *Service) changeMeta(ctx context.Context, typ, id string, body []byte, edit func(cur, arg metaLists) metaLists) Response {
	rights, r, ok := s.updateRights(ctx, typ)
	if !ok {
		return r
	}
	arg, r, ok := s.metaArgument(body)
	if !ok {
		return r
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, r, ok := s.current(ctx, typ, id)
		if !ok {
			return s.screenGone(ctx, rights.update, typ, id, r)
		}
		if r, ok := s.admitCurrent(ctx, rights.update, cur); !ok {
			return r
		}
		doc, err := decodeJSONObject(cur.Body)
		if err != nil {
			return s.internalError(ctx, "meta", fmt.Errorf("stored %s/%s: %w", typ, id, err))
		}
		old, err := storedMeta(cur.Body)
		if err != nil {
			return s.internalError(ctx, "meta", err)
		}
		next := edit(old, arg)
		if sameMeta(old, next) {
			return s.metaResponse(ctx, old, cur.VersionID, cur.LastUpdated)
		}
		res, r, ok := s.withMeta(ctx, doc, next)
		if !ok {
			return r
		}
		resp, err := s.commitVersion(ctx, res, id, cur.VersionID, store.MethodPatch, blobContent{ref: cur.BlobRef}, rights.update)
		if r, ok := asDenied(err); ok {
			return r
		}
		if store.IsConflict(err) {
			continue
		}
		if err != nil {
			return s.internalError(ctx, "meta", err)
		}
		out := s.metaResponse(ctx, next, resp.Version, resp.LastUpdated)
		out.Touched = resp.Touched
		return out
	}
	return tooMuchContention(typ, id)
}

// withMeta is the stored resource doc with its profile, tag and security
// lists replaced by m, parsed back into a resource.
func (s *Service) withMeta(ctx context.Context, doc map[string]any, m metaLists) (*fhir.Resource, Response, bool) {
	meta, _ := doc["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	setList := func(name string, n int, v any) {
		if n == 0 {
			delete(meta, name)
		} else {
			meta[name] = v
		}
	}
	setList("profile", len(m.Profile), m.Profile)
	setList("tag", len(m.Tag), m.Tag)
	setList("security", len(m.Security), m.Security)
	doc["meta"] = meta
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, s.internalError(ctx, "meta", err), false
	}
	res, o := s.codec.Parse(b)
	if o != nil {
		// The argument was validated as a Meta and the stored resource is
		// valid, so this is not the client's doing. The log names the
		// elements only: diagnostics can quote patient data.
		var at []string
		for _, is := range o.Issue {
			at = append(at, is.Expression...)
		}
		return nil, s.internalError(ctx, "meta", fmt.Errorf("resource with new meta does not parse at %v", at)), false
	}
	return res, Response{}, true
}

// metaArgument reads the "meta" parameter of a $meta-add or $meta-delete
// Parameters body.
func (s *Service) metaArgument(body []byte) (metaLists, Response, bool) {
	var m metaLists
	if len(bytes.TrimSpace(body)) == 0 {
		return m, fail(http.StatusBadRequest, fhir.CodeRequired, "the body must be a Parameters with a meta parameter (valueMeta)"), false
	}
	doc, err := decodeJSONObject(body)
	if err != nil {
		return m, fail(http.StatusBadRequest, fhir.CodeStructure, "the body is not a JSON object: "+err.Error()), false
	}
	if rt, _ := doc["resourceType"].(string); rt != "Parameters" {
		return m, fail(http.StatusBadRequest, fhir.CodeInvalid,
			fmt.Sprintf("the body must be a Parameters, not %q", rt), "resourceType"), false
	}
	// The codec checks the Meta's structure (codings, uris), naming each
	// element at fault.
	if _, o := s.codec.Parse(body); o != nil {
		return m, failure(http.StatusBadRequest, o), false
	}
	list, _ := doc["parameter"].([]any)
	found := false
	for i, item := range list {
		at := fmt.Sprintf("Parameters.parameter[%d]", i)
		p, _ := item.(map[string]any)
		switch name, _ := p["name"].(string); {
		case name != "meta":
			return m, fail(http.StatusBadRequest, fhir.CodeNotSupported,
				fmt.Sprintf("unknown parameter %q: the operation takes one parameter, meta", name), at+".name"), false
		case found:
			return m, fail(http.StatusBadRequest, fhir.CodeStructure, "the meta parameter may appear only once", at), false
		}
		raw, ok := p["valueMeta"]
		if !ok {
			return m, fail(http.StatusBadRequest, fhir.CodeRequired, "the meta parameter needs a valueMeta", at+".valueMeta"), false
		}
		b, err := json.Marshal(raw)
		if err == nil {
			err = decodeMeta(b, &m)
		}
		if err != nil {
			return m, fail(http.StatusBadRequest, fhir.CodeStructure, "valueMeta could not be read", at+".valueMeta"), false
		}
		found = true
	}
	if !found {
		return m, fail(http.StatusBadRequest, fhir.CodeRequired, "the Parameters has no meta parameter", "Parameters.parameter"), false
	}
	return m, Response{}, true
}

// storedMeta reads the lists from a stored resource body.
func storedMeta(body []byte) (metaLists, error) {
	var doc struct {
		Meta json.RawMessage `json:"meta"`
	}
	var m metaLists
	if err := json.Unmarshal(body, &doc); err != nil {
		return m, fmt.Errorf("stored resource: %w", err)
	}
	if len(doc.Meta) == 0 {
		return m, nil
	}
	if err := decodeMeta(doc.Meta, &m); err != nil {
		return m, fmt.Errorf("stored meta: %w", err)
	}
	return m, nil
}

func decodeMeta(b []byte, m *metaLists) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(m)
}

// addMeta adds what arg has and cur lacks, keeping cur's order.
func addMeta(cur, arg metaLists) metaLists {
	out := metaLists{
		Profile:  slices.Clone(cur.Profile),
		Tag:      slices.Clone(cur.Tag),
		Security: slices.Clone(cur.Security),
	}
	for _, p := range arg.Profile {
		if !slices.Contains(out.Profile, p) {
			out.Profile = append(out.Profile, p)
		}
	}
	out.Tag = addCodings(out.Tag, arg.Tag)
	out.Security = addCodings(out.Security, arg.Security)
	return out
}

// deleteMeta removes from cur what arg names.
func deleteMeta(cur, arg metaLists) metaLists {
	var out metaLists
	for _, p := range cur.Profile {
		if !slices.Contains(arg.Profile, p) {
			out.Profile = append(out.Profile, p)
		}
	}
	out.Tag = removeCodings(cur.Tag, arg.Tag)
	out.Security = removeCodings(cur.Security, arg.Security)
	return out
}

func addCodings(list, add []map[string]any) []map[string]any {
	for _, c := range add {
		if !containsCoding(list, c) {
			list = append(list, c)
		}
	}
	return list
}

func removeCodings(list, remove []map[string]any) []map[string]any {
	var out []map[string]any
	for _, c := range list {
		if !containsCoding(remove, c) {
			out = append(out, c)
		}
	}
	return out
}

// containsCoding compares codings by system and code only, as the spec
// says for these operations (display and version do not make a new tag).
func containsCoding(list []map[string]any, c map[string]any) bool {
	return slices.ContainsFunc(list, func(x map[string]any) bool {
		return x["system"] == c["system"] && x["code"] == c["code"]
	})
}

func sameMeta(a, b metaLists) bool {
	key := func(cs []map[string]any) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = fmt.Sprint(c["system"], "|", c["code"])
		}
		return out
	}
	return slices.Equal(a.Profile, b.Profile) && slices.Equal(key(a.Tag), key(b.Tag)) && slices.Equal(key(a.Security), key(b.Security))
}

// codingObjects renders index codings (system and code only: the index
// keeps no display).
func codingObjects(cs []store.Coding) []map[string]any {
	var out []map[string]any
	for _, c := range cs {
		m := map[string]any{}
		if c.System != "" {
			m["system"] = c.System
		}
		if c.Code != "" {
			m["code"] = c.Code
		}
		out = append(out, m)
	}
	return out
}

func (s *Service) metaResponse(ctx context.Context, m metaLists, version int64, lastUpdated time.Time) Response {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // profile URLs keep their "&"
	if err := enc.Encode(metaParameters{ResourceType: "Parameters", Parameter: []metaParameter{{Name: "return", ValueMeta: m}}}); err != nil {
		return s.internalError(ctx, "meta", err)
	}
	return Response{Status: http.StatusOK, Body: bytes.TrimRight(buf.Bytes(), "\n"), Version: version, LastUpdated: lastUpdated}
}
