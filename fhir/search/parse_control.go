package search

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// controlParams are the result and control parameters: they shape the answer
// rather than select resources.
var controlParams = map[string]bool{
	"_count": true, "_sort": true, "_total": true, "_summary": true, "_elements": true,
	"_include": true, "_revinclude": true, "_type": true, "_cursor": true,
	"_format": true, "_pretty": true, "_contained": true, "_containedType": true,
}

// elementRE is one _elements entry: a top-level element name.
var elementRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func isControl(key string) bool {
	base, _, _ := strings.Cut(key, ":")
	return controlParams[base]
}

// control parses one result or control parameter (all its repetitions).
func (p *parser) control(key string, vals []string) {
	vals = nonEmptyValues(vals)
	if len(vals) == 0 {
		p.q.Ignored = append(p.q.Ignored, key)
		return
	}
	base, mod, hasMod := strings.Cut(key, ":")
	switch base {
	case "_format", "_pretty":
		return // HTTP concerns, handled before the search
	case "_include", "_revinclude":
		iterate := false
		if hasMod {
			if mod != "iterate" && mod != "recurse" {
				p.fail(fhir.CodeInvalid, key, "%s takes only the modifier :iterate", base)
				return
			}
			iterate = true
		}
		for _, v := range vals {
			if inc, ok := p.include(key, v, iterate); ok {
				if base == "_include" {
					p.q.Include = append(p.q.Include, inc)
				} else {
					p.q.RevInclude = append(p.q.RevInclude, inc)
				}
			}
		}
		return
	}
	if hasMod {
		p.fail(fhir.CodeInvalid, key, "%s takes no modifier", base)
		return
	}
	if len(vals) > 1 {
		p.fail(fhir.CodeInvalid, key, "%s may appear only once", base)
		return
	}
	v := vals[0]
	switch base {
	case "_type":
		p.types(key, v)
	case "_count":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.fail(fhir.CodeValue, key, "%q is not a whole number of zero or more", v)
			return
		}
		if p.opts.MaxCount > 0 && n > p.opts.MaxCount {
			n = p.opts.MaxCount
		}
		if p.q.Summary != "count" {
			p.q.Count = n
		}
	case "_sort":
		p.sort(key, v)
	case "_total":
		if v != "none" && v != "estimate" && v != "accurate" {
			p.fail(fhir.CodeValue, key, "%q is not one of none, estimate, accurate", v)
			return
		}
		p.q.Total = v
	case "_summary":
		if v != "true" && v != "text" && v != "data" && v != "count" && v != "false" {
			p.fail(fhir.CodeValue, key, "%q is not one of true, text, data, count, false", v)
			return
		}
		p.q.Summary = v
		if v == "count" {
			p.q.Count = 0
		}
	case "_elements":
		var els []string
		for _, e := range strings.Split(v, ",") {
			e = strings.TrimSpace(e)
			if !elementRE.MatchString(e) {
				p.fail(fhir.CodeValue, key, "%q is not an element name", e)
				return
			}
			if !slices.Contains(els, e) {
				els = append(els, e)
			}
		}
		p.q.Elements = els
	case "_cursor":
		p.q.Cursor = v
	case "_contained":
		switch v {
		case "false":
		case "true", "both":
			p.fail(fhir.CodeNotSupported, key, "searching contained resources is not supported")
		default:
			p.fail(fhir.CodeValue, key, "%q is not one of true, false, both", v)
		}
	case "_containedType":
		switch v {
		case "container":
		case "contained":
			p.fail(fhir.CodeNotSupported, key, "returning contained resources on their own is not supported")
		default:
			p.fail(fhir.CodeValue, key, "%q is not one of container, contained", v)
		}
	}
}

// types reads _type: the types a system search covers.
func (p *parser) types(key, v string) {
	if p.typ != "" {
		p.unsupported(key, "_type belongs to a system search, not a search on %s", p.typ)
		return
	}
	var out []string
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimSpace(t)
		if !p.isResourceType(t) {
			p.fail(fhir.CodeValue, key, "%q is not a resource type", t)
			return
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	p.q.Types = out
}

// include reads one _include or _revinclude value: *, Type:*,
// Type:parameter or Type:parameter:TargetType.
func (p *parser) include(key, v string, iterate bool) (Include, bool) {
	if v == "*" {
		return Include{Wildcard: true, Iterate: iterate}, true
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[1] == "" {
		p.fail(fhir.CodeValue, key, "%q is not Type:parameter, Type:parameter:TargetType or *", v)
		return Include{}, false
	}
	src := parts[0]
	if !p.isResourceType(src) {
		p.fail(fhir.CodeValue, key, "%q: %q is not a resource type", v, src)
		return Include{}, false
	}
	if parts[1] == "*" && len(parts) == 2 {
		return Include{SourceType: src, Wildcard: true, Iterate: iterate}, true
	}
	prm, ok := p.reg.Lookup(src, parts[1])
	if !ok {
		p.fail(fhir.CodeValue, key, "%q: %s has no search parameter %q", v, src, parts[1])
		return Include{}, false
	}
	if prm.Type != Reference {
		p.fail(fhir.CodeValue, key, "%q: %s is a %s parameter, not a reference", v, parts[1], prm.Type)
		return Include{}, false
	}
	inc := Include{SourceType: src, Param: prm, Iterate: iterate}
	if len(parts) == 3 {
		t := parts[2]
		if !p.isResourceType(t) {
			p.fail(fhir.CodeValue, key, "%q: %q is not a resource type", v, t)
			return Include{}, false
		}
		if len(prm.Targets) > 0 && !slices.Contains(prm.Targets, t) {
			p.fail(fhir.CodeValue, key, "%q: %s cannot refer to a %s", v, parts[1], t)
			return Include{}, false
		}
		inc.TargetType = t
	}
	return inc, true
}

// sort reads _sort: a comma-separated list of parameters, "-" for
// descending.
func (p *parser) sort(key, v string) {
	var keys []SortKey
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		desc := strings.HasPrefix(item, "-")
		code := strings.TrimPrefix(item, "-")
		if code == "" {
			p.fail(fhir.CodeValue, key, "%q has an empty sort key", v)
			return
		}
		prm, _, st := p.lookup(p.contextTypes(), code)
		if st != lookupFound {
			p.fail(fhir.CodeValue, key, "cannot sort by %q: it is not a search parameter of %s", code, p.typeName())
			return
		}
		if prm.Type == Composite || prm.Type == Special || prm.Expression == "" {
			p.fail(fhir.CodeNotSupported, key, "cannot sort by the %s parameter %q", prm.Type, code)
			return
		}
		keys = append(keys, SortKey{Param: prm, Descending: desc})
	}
	p.q.Sort = keys
}

func (p *parser) typeName() string {
	if p.typ == "" {
		return "a system search"
	}
	return p.typ
}
