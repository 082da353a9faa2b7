package subscription

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
)

// query is a search that one resource's index entries decide: what R4
// criteria and backport filters become. Every clause must hold.
type query struct {
	Type  string
	Where []search.Clause
}

func (q query) matches(es []search.Entry) bool {
	for _, c := range q.Where {
		if !c.MatchEntries(es) {
			return false
		}
	}
	return true
}

// resultParams are search parameters that shape a result page rather
// than select resources: meaningless for a notification.
var resultParams = map[string]bool{
	"_sort": true, "_count": true, "_include": true, "_revinclude": true, "_summary": true,
	"_elements": true, "_total": true, "_contained": true, "_containedType": true,
	"_format": true, "_pretty": true, "_type": true,
}

// queryParser reads criteria and filters against the registry.
type queryParser struct {
	reg  *search.Registry
	base string
}

// parse reads raw, "Type?params" or "Type"; with defaultType set (a
// filter), also "params" alone and the IG example's "Type.param=value".
// allow, when set, says which parameters are permitted. Each problem is
// an issue at the FHIRPath at.
func (p queryParser) parse(raw, defaultType, at string, allow func(string) bool) (query, []fhir.Issue) {
	bad := func(format string, args ...any) (query, []fhir.Issue) {
		return query{}, []fhir.Issue{issue(fhir.CodeValue, at, format, args...)}
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("%s is empty", what(defaultType))
	}
	typ, rawQuery, hasQuery := strings.Cut(raw, "?")
	if !hasQuery && defaultType != "" {
		typ, rawQuery = defaultType, raw
		// "Encounter.patient=Patient/123": the type, a dot, a parameter.
		if key, _, ok := strings.Cut(raw, "="); ok {
			if t, param, ok := strings.Cut(key, "."); ok && fhir.IsResourceType(t) {
				typ, rawQuery = t, param+raw[len(key):]
			}
		}
	}
	if !fhir.IsResourceType(typ) {
		return bad("%s %q: %q is not a resource type (write Type?parameter=value)", what(defaultType), raw, typ)
	}
	if defaultType != "" && typ != defaultType {
		return bad("filter %q is on %s, but the topic is about %s", raw, typ, defaultType)
	}
	if notTopics[typ] {
		return bad("%s %q: changes of %s cannot be subscribed to", what(defaultType), raw, typ)
	}
	params, err := url.ParseQuery(rawQuery)
	if err != nil {
		return bad("%s %q is not a valid query string: %v", what(defaultType), raw, err)
	}
	var issues []fhir.Issue
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, _, _ := strings.Cut(k, ":")
		switch {
		case resultParams[name]:
			issues = append(issues, issue(fhir.CodeNotSupported, at, "%s %q: %s shapes search results and selects nothing; a subscription cannot use it", what(defaultType), raw, k))
		case strings.HasPrefix(k, "_has"):
			issues = append(issues, chainIssue(at, raw, k, typ))
		case allow != nil && !allow(name):
			issues = append(issues, issue(fhir.CodeNotSupported, at, "filter %q: this topic does not filter on %q", raw, name))
		}
	}
	if len(issues) > 0 {
		return query{}, issues
	}
	q, o := search.Parse(p.reg, typ, params, search.ParseOptions{Strict: true, BaseURL: p.base})
	if o.HasErrors() {
		for _, is := range o.Issue {
			if is.Severity == fhir.SeverityError || is.Severity == fhir.SeverityFatal {
				issues = append(issues, issue(is.Code, at, "%s %q: %s", what(defaultType), raw, is.Diagnostics))
			}
		}
		return query{}, issues
	}
	for _, c := range q.Where {
		for _, pr := range c.Any {
			if why := notInMemory(pr); why != "" {
				if pr.Chain != nil || pr.Has != nil {
					issues = append(issues, chainIssue(at, raw, pr.Param.Code, typ))
					continue
				}
				issues = append(issues, issue(fhir.CodeNotSupported, at, "%s %q: %s", what(defaultType), raw, why))
			}
		}
	}
	if len(issues) > 0 {
		return query{}, issues
	}
	return query{Type: typ, Where: q.Where}, nil
}

func chainIssue(at, raw, key, typ string) fhir.Issue {
	return issue(fhir.CodeNotSupported, at,
		"%q: %s is a chain or reverse chain, which needs other resources and cannot be matched against one changed %s; use a parameter of %s itself",
		raw, key, typ, typ)
}

// notInMemory says why a predicate cannot be decided from one
// resource's entries, or "" when it can.
func notInMemory(p search.Predicate) string {
	if p.Chain != nil || p.Has != nil || p.Param == nil {
		return "chains and _has cannot be matched against one resource"
	}
	if p.Param.Type == search.Special || p.Param.Code == "_list" {
		return fmt.Sprintf("%s needs a search of the whole store and cannot be matched against one changed resource", p.Param.Code)
	}
	if p.Missing != nil {
		return ""
	}
	kind := p.Value.Kind
	if kind == "" {
		kind = p.Param.Type
	}
	switch kind {
	case search.Token:
		switch p.Modifier {
		case "", ":not", ":text", ":of-type":
			return ""
		}
		return fmt.Sprintf("%s%s needs a terminology server, which Telederm does not have", p.Param.Code, p.Modifier)
	case search.Reference:
		if p.Modifier == "" || p.Modifier == ":identifier" || p.Modifier == ":not" {
			return ""
		}
		return fmt.Sprintf("%s%s cannot be matched against one changed resource", p.Param.Code, p.Modifier)
	}
	return ""
}

func what(defaultType string) string {
	if defaultType != "" {
		return "filter"
	}
	return "criteria"
}

func issue(code, at, format string, args ...any) fhir.Issue {
	return fhir.Issue{Severity: fhir.SeverityError, Code: code, Diagnostics: fmt.Sprintf(format, args...), Expression: []string{at}}
}
