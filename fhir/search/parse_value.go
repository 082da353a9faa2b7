package search

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
)

var (
	// searchDecimalRE is a number as search values write it: FHIR's decimal,
	// with an exponent allowed ("1e2") and leading zeros tolerated.
	searchDecimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	// refIDRE is a FHIR logical id.
	refIDRE = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	// listRE is a _list value: a List id or a functional list ($current-allergies).
	listRE = regexp.MustCompile(`^([A-Za-z0-9\-.]{1,64}|\$[A-Za-z0-9\-]{1,64})$`)
)

// splitEscaped splits s at every sep not escaped by a backslash. The parts
// keep their escapes.
func splitEscaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++ // the next byte is escaped
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescapeValue resolves the search escapes \, \| \$ and \\. A backslash before
// anything else is kept as written.
func unescapeValue(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`,|$\`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeValue is unescapeValue's inverse, for values rendered from typed fields.
func escapeValue(s string) string {
	if !strings.ContainsAny(s, `,|$\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`,|$\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// value parses one alternative of a parameter's value.
func (p *parser) value(ks *keySpec, raw string) (Value, bool) {
	var v Value
	var err error
	if ks.param.Code == "_list" && ks.param.Type == Special {
		v, err = parseList(raw)
	} else {
		v, err = p.typedValue(ks.param, ks.modifier, ks.refType, raw)
	}
	if err != nil {
		p.fail(fhir.CodeValue, ks.raw, "%v", err)
		return Value{}, false
	}
	return v, true
}

// typedValue parses raw as a value of prm's type under the modifier (and a
// reference's type modifier).
func (p *parser) typedValue(prm *Param, mod, refType, raw string) (Value, error) {
	var v Value
	var err error
	switch prm.Type {
	case String:
		s := unescapeValue(raw)
		v = Value{Text: Normalize(s), Exact: s}
	case Token:
		v, err = parseToken(mod, raw)
	case Number:
		v, err = parseNumber(raw)
	case Date:
		v, err = p.dateValue(raw)
	case Quantity:
		v, err = parseQuantity(raw)
	case Reference:
		v, err = p.referenceValue(prm, mod, refType, raw)
	case URI:
		v = Value{URI: unescapeValue(raw)}
	case Composite:
		v, err = p.compositeValue(prm, raw)
	default:
		err = fmt.Errorf("%s parameters cannot be searched", prm.Type)
	}
	if err != nil {
		return Value{}, err
	}
	v.Kind = prm.Type
	if v.Raw == "" {
		v.Raw = raw
	}
	return v, nil
}

func parseToken(mod, raw string) (Value, error) {
	switch mod {
	case ":text":
		return Value{Text: Normalize(unescapeValue(raw))}, nil
	case ":of-type":
		parts := splitEscaped(raw, '|')
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return Value{}, fmt.Errorf("%q: :of-type takes system|code|value, all three present", raw)
		}
		return Value{TypeSystem: unescapeValue(parts[0]), TypeCode: unescapeValue(parts[1]), Code: unescapeValue(parts[2])}, nil
	}
	parts := splitEscaped(raw, '|')
	switch len(parts) {
	case 1:
		return Value{Code: unescapeValue(parts[0])}, nil
	case 2:
		if parts[0] == "" && parts[1] == "" {
			return Value{}, errors.New(`"|" alone names neither a system nor a code`)
		}
		return Value{System: unescapeValue(parts[0]), Code: unescapeValue(parts[1]), HasSystem: true}, nil
	}
	return Value{}, fmt.Errorf("%q: a token is code, system|code, |code or system| (escapeValue a literal | as \\|)", raw)
}

// parseDecimal reads a search number with its precision range.
func parseDecimal(s string) (v, lo, hi float64, err error) {
	if !searchDecimalRE.MatchString(s) {
		return 0, 0, 0, fmt.Errorf("%q is not a number", s)
	}
	return DecimalRange(s)
}

func parseNumber(raw string) (Value, error) {
	pr, rest, _ := splitPrefix(raw)
	if rest == "" {
		return Value{}, fmt.Errorf("%q has no number after the prefix", raw)
	}
	n, lo, hi, err := parseDecimal(rest)
	if err != nil {
		return Value{}, err
	}
	v := Value{Prefix: pr, Num: n, NumLo: lo, NumHi: hi}
	if pr == Ap {
		v.ApNumLo, v.ApNumHi = approxNumber(n, lo, hi)
	}
	return v, nil
}

func (p *parser) dateValue(raw string) (Value, error) {
	// An unencoded "+01:00" arrives as " 01:00"; dates have no spaces.
	s := strings.ReplaceAll(raw, " ", "+")
	pr, rest, _ := splitPrefix(s)
	if rest == "" {
		return Value{}, fmt.Errorf("%q has no date after the prefix", raw)
	}
	lo, hi, err := fhir.ParseDateRange(rest)
	if err != nil {
		return Value{}, err
	}
	// Ranges finer than a microsecond still cover the microsecond they
	// fall in, as the indexer rounds them.
	h := hi.UnixMicro()
	if hi.Nanosecond()%1000 != 0 {
		h++
	}
	v := Value{Prefix: pr, Lo: lo.UnixMicro(), Hi: h, Raw: s}
	if pr == Ap {
		v.ApLo, v.ApHi = approxDate(v.Lo, v.Hi, p.now)
	}
	return v, nil
}

func parseQuantity(raw string) (Value, error) {
	pr, rest, _ := splitPrefix(raw)
	parts := splitEscaped(rest, '|')
	if len(parts) != 1 && len(parts) != 3 {
		return Value{}, fmt.Errorf("%q: a quantity is [prefix]number, [prefix]number|system|code or [prefix]number||code", raw)
	}
	if parts[0] == "" {
		return Value{}, fmt.Errorf("%q has no number", raw)
	}
	n, lo, hi, err := parseDecimal(parts[0])
	if err != nil {
		return Value{}, err
	}
	v := Value{Prefix: pr, Num: n, NumLo: lo, NumHi: hi}
	if pr == Ap {
		v.ApNumLo, v.ApNumHi = approxNumber(n, lo, hi)
	}
	if len(parts) == 3 {
		v.System, v.Code = unescapeValue(parts[1]), unescapeValue(parts[2])
		if v.System != "" && v.Code == "" {
			return Value{}, fmt.Errorf("%q names a unit system but no unit code", raw)
		}
	}
	return v, nil
}

func (p *parser) referenceValue(prm *Param, mod, refType, raw string) (Value, error) {
	if mod == ":identifier" {
		t, err := parseToken("", raw)
		if err != nil {
			return Value{}, err
		}
		return Value{Ref: &RefValue{System: t.System, Code: t.Code, HasSystem: t.HasSystem}}, nil
	}
	parts := splitEscaped(raw, '|')
	if len(parts) > 2 {
		return Value{}, fmt.Errorf("%q: a reference is id, Type/id, an absolute URL or a canonical url|version", raw)
	}
	s := unescapeValue(parts[0])
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		local := p.localPath(s)
		if local == "" || len(parts) == 2 {
			r := &RefValue{URL: s}
			if len(parts) == 2 {
				r.Version = unescapeValue(parts[1])
			}
			return Value{Ref: r}, nil
		}
		s = local
	} else if len(parts) == 2 {
		return Value{}, fmt.Errorf("%q: a canonical reference (url|version) needs an absolute URL", raw)
	}

	segs := strings.Split(s, "/")
	var typ, id string
	switch {
	case len(segs) == 1:
		typ, id = refType, segs[0]
		if typ == "" && len(prm.Targets) == 1 {
			typ = prm.Targets[0]
		}
	case len(segs) == 2 || (len(segs) == 4 && segs[2] == "_history"):
		typ, id = segs[0], segs[1]
		if !p.isResourceType(typ) {
			return Value{}, fmt.Errorf("%q: %q is not a resource type", raw, typ)
		}
		if refType != "" && refType != typ {
			return Value{}, fmt.Errorf("%q does not refer to a %s, as the modifier :%s requires", raw, refType, refType)
		}
		if len(prm.Targets) > 0 && !slices.Contains(prm.Targets, typ) {
			return Value{}, fmt.Errorf("%q: %s cannot refer to a %s", raw, prm.Code, typ)
		}
	default:
		return Value{}, fmt.Errorf("%q: a reference is id, Type/id, an absolute URL or a canonical url|version", raw)
	}
	if !refIDRE.MatchString(id) {
		return Value{}, fmt.Errorf("%q: %q is not a valid resource id", raw, id)
	}
	rendered := id
	if typ != "" {
		rendered = typ + "/" + id
	}
	return Value{Ref: &RefValue{Type: typ, ID: id}, Raw: rendered}, nil
}

// localPath is the "Type/id" of an absolute URL under the server's base,
// by http or https alike (as the indexer reads them), or "".
func (p *parser) localPath(s string) string {
	base := strings.TrimRight(strings.TrimSpace(p.opts.BaseURL), "/")
	if i := strings.Index(base, "://"); i >= 0 {
		base = base[i+3:]
	}
	if base == "" {
		return ""
	}
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(s, scheme+base+"/"); ok {
			return rest
		}
	}
	return ""
}

func (p *parser) compositeValue(prm *Param, raw string) (Value, error) {
	if len(prm.Components) == 0 {
		return Value{}, fmt.Errorf("composite parameter %s has no components defined", prm.Code)
	}
	parts := splitEscaped(raw, '$')
	if len(parts) != len(prm.Components) {
		return Value{}, fmt.Errorf("%q: %s takes %d values joined by $, not %d", raw, prm.Code, len(prm.Components), len(parts))
	}
	v := Value{Parts: make([]Value, len(parts))}
	for i, c := range prm.Components {
		cp, ok := p.reg.ByURL(c.Definition)
		if !ok || cp.Type == Composite {
			return Value{}, fmt.Errorf("component %d of %s (%s) cannot be searched", i+1, prm.Code, c.Definition)
		}
		if parts[i] == "" {
			return Value{}, fmt.Errorf("%q: component %d (%s) is empty", raw, i+1, cp.Code)
		}
		pv, err := p.typedValue(cp, "", "", parts[i])
		if err != nil {
			return Value{}, fmt.Errorf("component %d (%s): %w", i+1, cp.Code, err)
		}
		v.Parts[i] = pv
	}
	return v, nil
}

func parseList(raw string) (Value, error) {
	s := unescapeValue(raw)
	if !listRE.MatchString(s) {
		return Value{}, fmt.Errorf("%q is neither a List id nor a functional list name ($name)", raw)
	}
	return Value{Code: s, Kind: Special, Raw: raw}, nil
}
