package search

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/telederm/telederm/fhir"
)

// Lookup is what Parse needs from the search-parameter registry.
type Lookup interface {
	// Lookup returns the parameter code of resourceType, including the
	// parameters every type has (_id, _lastUpdated, ...). Parse asks for
	// resourceType "Resource" (then "DomainResource") to find the common
	// parameters of a system search.
	Lookup(resourceType, code string) (*Param, bool)
	// ByURL returns the parameter with the canonical URL; Parse uses it for
	// the components of composite parameters.
	ByURL(url string) (*Param, bool)
}

// ParseOptions tune Parse.
type ParseOptions struct {
	// Strict is Prefer: handling=strict: unknown and unsupported parameters
	// are errors instead of being ignored.
	Strict bool
	// DefaultCount is the page size without _count (DefaultPageSize when
	// not positive); MaxCount caps _count (no cap when not positive).
	DefaultCount, MaxCount int
	// IsResourceType says whether a name is a resource type; nil means
	// fhir.IsResourceType.
	IsResourceType func(string) bool

	// BaseURL is the server's base ("https://host/fhir"); a reference value
	// under it is read as the local reference "Type/id".
	BaseURL string
	// Now is the clock for the ap prefix on dates; nil means time.Now.
	Now func() time.Time
}

// DefaultPageSize is the page size when neither _count nor
// ParseOptions.DefaultCount gives one.
const DefaultPageSize = 20

// Limits that keep a hostile query cheap to parse and to run.
const (
	maxChainDepth = 4 // reference links in one chained parameter
	maxHasDepth   = 4 // nested _has
)

// Parse reads the parameters of a search on resourceType ("" for a system
// search) into a Query checked against the registry. Every problem found is
// reported, each issue's expression naming the parameter as written. The
// query is nil when the outcome has errors; otherwise the outcome is nil,
// or holds warnings about parameters that were ignored (see
// Query.Ignored).
func Parse(reg Lookup, resourceType string, params url.Values, opts ParseOptions) (*Query, *fhir.Outcome) {
	p := &parser{reg: reg, opts: opts, typ: resourceType, q: &Query{Type: resourceType}}
	if p.opts.IsResourceType == nil {
		p.opts.IsResourceType = fhir.IsResourceType
	}
	if p.opts.Now == nil {
		p.opts.Now = time.Now
	}
	p.now = p.opts.Now()
	p.q.Count = p.opts.DefaultCount
	if p.q.Count <= 0 {
		p.q.Count = DefaultPageSize
	}
	if p.opts.MaxCount > 0 && p.q.Count > p.opts.MaxCount {
		p.q.Count = p.opts.MaxCount
	}

	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// _type first: a system search's other parameters depend on it.
	for _, k := range keys {
		if k == "_type" {
			p.control(k, params[k])
		}
	}
	for _, k := range keys {
		if k == "_type" {
			continue
		}
		vals := nonEmptyValues(params[k])
		if len(vals) == 0 {
			p.q.Ignored = append(p.q.Ignored, k)
			continue
		}
		if isControl(k) {
			p.control(k, vals)
			continue
		}
		p.search(k, vals)
	}

	sort.Strings(p.q.Ignored)
	p.q.Ignored = dedupeSorted(p.q.Ignored)
	if p.out.HasErrors() {
		return nil, p.out
	}
	return p.q, p.out
}

// parser holds one Parse call's state.
type parser struct {
	reg  Lookup
	opts ParseOptions
	typ  string
	now  time.Time
	q    *Query
	out  *fhir.Outcome
}

func (p *parser) issue(severity, code, key, format string, args ...any) {
	if p.out == nil {
		p.out = &fhir.Outcome{ResourceType: "OperationOutcome"}
	}
	p.out.Add(severity, code, fmt.Sprintf("parameter %q: ", key)+fmt.Sprintf(format, args...), key)
}

// fail records an error about the parameter key.
func (p *parser) fail(code, key, format string, args ...any) {
	p.issue(fhir.SeverityError, code, key, format, args...)
}

// unsupported handles a parameter the server does not know or cannot
// honour: an error under strict handling, otherwise ignored with a warning.
func (p *parser) unsupported(key, format string, args ...any) {
	if p.opts.Strict {
		p.fail(fhir.CodeNotSupported, key, format, args...)
		return
	}
	p.issue(fhir.SeverityWarning, fhir.CodeNotSupported, key, format+" (ignored)", args...)
	p.q.Ignored = append(p.q.Ignored, key)
}

// search parses one search parameter (all its repetitions) into clauses.
func (p *parser) search(key string, vals []string) {
	ks, ok := p.parseKey(key)
	if !ok {
		return
	}
	for _, raw := range vals {
		alts := splitEscaped(raw, ',')
		clause := Clause{Any: make([]Predicate, 0, len(alts))}
		bad := false
		for _, alt := range alts {
			if alt == "" {
				p.fail(fhir.CodeValue, key, "empty value in the comma-separated list %q", raw)
				bad = true
				continue
			}
			pred, ok := p.predicate(ks, alt)
			if !ok {
				bad = true
				continue
			}
			clause.Any = append(clause.Any, pred)
		}
		if !bad {
			p.q.Where = append(p.q.Where, clause)
		}
	}
}

// predicate builds the predicate of one alternative value for a parsed key.
func (p *parser) predicate(ks *keySpec, raw string) (Predicate, bool) {
	inner := Predicate{Param: ks.param, Modifier: ks.modifier}
	if ks.modifier == ":missing" {
		var b bool
		switch raw {
		case "true":
			b = true
		case "false":
		default:
			p.fail(fhir.CodeValue, ks.raw, ":missing takes true or false, not %q", raw)
			return Predicate{}, false
		}
		inner.Missing = &b
	} else {
		v, ok := p.value(ks, raw)
		if !ok {
			return Predicate{}, false
		}
		inner.Value = v
	}
	for i := len(ks.links) - 1; i >= 0; i-- {
		l := ks.links[i]
		if l.has {
			inner = Predicate{Has: &Has{Type: l.typ, RefParam: l.param, Next: inner}}
		} else {
			inner = Predicate{Param: l.param, Chain: &Chain{Type: l.typ, Next: inner}}
		}
	}
	return inner, true
}

// nonEmptyValues drops empty values: "name=" says nothing.
func nonEmptyValues(vals []string) []string {
	out := vals[:0:0]
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func dedupeSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// isResourceTypeName is IsResourceType behind a cheap syntax check.
func (p *parser) isResourceType(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || strings.ContainsAny(s, ".:/|$, ") {
		return false
	}
	return p.opts.IsResourceType(s)
}
