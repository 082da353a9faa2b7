package search

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Canonical renders the query back to request parameters, for self and
// next links: every clause as its parameter name and comma-joined values,
// then the result parameters (_count always). Parameters Parse ignored are
// left out. The rendering is deterministic (url.Values.Encode sorts the
// names; repeated names keep the order of Where), and parsing it again
// gives the same query.
func (q *Query) Canonical() url.Values {
	out := url.Values{}
	for _, c := range q.Where {
		for _, group := range groupByKey(c.Any) {
			out.Add(group.key, strings.Join(group.values, ","))
		}
	}
	if len(q.Types) > 0 {
		out.Set("_type", strings.Join(q.Types, ","))
	}
	for _, inc := range q.Include {
		k, v := renderInclude("_include", inc)
		out.Add(k, v)
	}
	for _, inc := range q.RevInclude {
		k, v := renderInclude("_revinclude", inc)
		out.Add(k, v)
	}
	if len(q.Sort) > 0 {
		keys := make([]string, 0, len(q.Sort))
		for _, s := range q.Sort {
			if s.Param == nil {
				continue
			}
			if s.Descending {
				keys = append(keys, "-"+s.Param.Code)
			} else {
				keys = append(keys, s.Param.Code)
			}
		}
		out.Set("_sort", strings.Join(keys, ","))
	}
	out.Set("_count", strconv.Itoa(q.Count))
	if q.Total != "" {
		out.Set("_total", q.Total)
	}
	if q.Summary != "" {
		out.Set("_summary", q.Summary)
	}
	if len(q.Elements) > 0 {
		out.Set("_elements", strings.Join(q.Elements, ","))
	}
	if q.Cursor != "" {
		out.Set("_cursor", q.Cursor)
	}
	return out
}

type keyValues struct {
	key    string
	values []string
}

// groupByKey renders a clause's predicates. Predicates Parse made from one
// parameter share a name and become one comma-joined value; a clause built
// by hand with several names cannot be written as one parameter, and each
// name becomes its own parameter.
func groupByKey(preds []Predicate) []keyValues {
	var out []keyValues
	for _, p := range preds {
		k, v := predicateKey(p), predicateValue(p)
		placed := false
		for i := range out {
			if out[i].key == k {
				out[i].values = append(out[i].values, v)
				placed = true
				break
			}
		}
		if !placed {
			out = append(out, keyValues{key: k, values: []string{v}})
		}
	}
	return out
}

// predicateKey is the parameter name that expresses p.
func predicateKey(p Predicate) string {
	switch {
	case p.Has != nil:
		code := ""
		if p.Has.RefParam != nil {
			code = p.Has.RefParam.Code
		}
		return "_has:" + p.Has.Type + ":" + code + ":" + predicateKey(p.Has.Next)
	case p.Param == nil:
		return ""
	case p.Chain != nil:
		k := p.Param.Code
		// The type is implied when it is the parameter's only target.
		if t := p.Chain.Type; t != "" && !(len(p.Param.Targets) == 1 && p.Param.Targets[0] == t) {
			k += ":" + p.Chain.Type
		}
		return k + "." + predicateKey(p.Chain.Next)
	case p.Missing != nil:
		return p.Param.Code + ":missing"
	}
	return p.Param.Code + p.Modifier
}

// predicateValue is the value that expresses p (its innermost test).
func predicateValue(p Predicate) string {
	switch {
	case p.Has != nil:
		return predicateValue(p.Has.Next)
	case p.Chain != nil:
		return predicateValue(p.Chain.Next)
	case p.Missing != nil:
		return strconv.FormatBool(*p.Missing)
	case p.Value.Raw != "":
		return p.Value.Raw
	}
	kind := p.Value.Kind
	if kind == "" && p.Param != nil {
		kind = p.Param.Type
	}
	return renderValue(kind, p.Modifier, p.Value)
}

// renderValue writes a value built by hand (without Raw) from its typed
// fields; dates are written in UTC at the precision their range implies.
func renderValue(kind Type, mod string, v Value) string {
	prefix := ""
	if v.Prefix != "" && v.Prefix != Eq {
		prefix = string(v.Prefix)
	}
	switch kind {
	case Token:
		switch {
		case mod == ":text":
			return escapeValue(v.Text)
		case mod == ":of-type":
			return escapeValue(v.TypeSystem) + "|" + escapeValue(v.TypeCode) + "|" + escapeValue(v.Code)
		case v.HasSystem:
			return escapeValue(v.System) + "|" + escapeValue(v.Code)
		}
		return escapeValue(v.Code)
	case String:
		if v.Exact != "" {
			return escapeValue(v.Exact)
		}
		return escapeValue(v.Text)
	case URI:
		return escapeValue(v.URI)
	case Special:
		return escapeValue(v.Code)
	case Number:
		return prefix + strconv.FormatFloat(v.Num, 'g', -1, 64)
	case Quantity:
		s := prefix + strconv.FormatFloat(v.Num, 'g', -1, 64)
		if v.System != "" || v.Code != "" {
			s += "|" + escapeValue(v.System) + "|" + escapeValue(v.Code)
		}
		return s
	case Date:
		return prefix + renderDate(v.Lo, v.Hi)
	case Reference:
		r := v.Ref
		switch {
		case r == nil:
			return ""
		case mod == ":identifier":
			if r.HasSystem {
				return escapeValue(r.System) + "|" + escapeValue(r.Code)
			}
			return escapeValue(r.Code)
		case r.URL != "":
			if r.Version != "" {
				return escapeValue(r.URL) + "|" + escapeValue(r.Version)
			}
			return escapeValue(r.URL)
		case r.Type != "":
			return r.Type + "/" + r.ID
		}
		return r.ID
	case Composite:
		parts := make([]string, len(v.Parts))
		for i, pv := range v.Parts {
			if pv.Raw != "" {
				parts[i] = pv.Raw
			} else {
				parts[i] = renderValue(pv.Kind, "", pv)
			}
		}
		return strings.Join(parts, "$")
	}
	return ""
}

// renderDate writes the range [lo, hi) (µs) as the date whose precision
// covers it.
func renderDate(lo, hi int64) string {
	t := time.UnixMicro(lo).UTC()
	switch end := time.UnixMicro(hi).UTC(); {
	case end.Equal(t.AddDate(1, 0, 0)) && t.YearDay() == 1 && t.Hour() == 0:
		return t.Format("2006")
	case end.Equal(t.AddDate(0, 1, 0)) && t.Day() == 1 && t.Hour() == 0:
		return t.Format("2006-01")
	case end.Equal(t.AddDate(0, 0, 1)) && t.Hour() == 0 && t.Minute() == 0:
		return t.Format("2006-01-02")
	case end.Sub(t) == time.Minute:
		return t.Format("2006-01-02T15:04Z07:00")
	case end.Sub(t) == time.Second:
		return t.Format("2006-01-02T15:04:05Z07:00")
	}
	return t.Format(time.RFC3339Nano)
}

// renderInclude writes an _include or _revinclude.
func renderInclude(name string, inc Include) (string, string) {
	if inc.Iterate {
		name += ":iterate"
	}
	switch {
	case inc.Wildcard && inc.SourceType == "":
		return name, "*"
	case inc.Wildcard:
		return name, inc.SourceType + ":*"
	case inc.Param == nil:
		return name, inc.SourceType
	}
	v := inc.SourceType + ":" + inc.Param.Code
	if inc.TargetType != "" {
		v += ":" + inc.TargetType
	}
	return name, v
}
