package search

import (
	"slices"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// keySpec is a parsed parameter name: the path of chains and reverse
// chains from the searched type to the parameter finally tested, and the
// modifier on that parameter.
type keySpec struct {
	raw      string // the name as written, for issues
	links    []keyLink
	chains   int    // how many of links are chains
	param    *Param // the parameter tested
	modifier string // ":exact", ":missing", ...; "" for none or a type modifier
	refType  string // a reference's :[type] modifier
}

// keyLink is one step of a key's path: a chain through a reference parameter
// to typ, or a reverse chain (_has) from resources of typ.
type keyLink struct {
	has   bool
	param *Param
	typ   string
}

// modifierNames are the R4 search modifiers (search-modifier-code), to tell
// a misplaced modifier from an unknown one.
var modifierNames = map[string]bool{
	"missing": true, "exact": true, "contains": true, "not": true, "text": true, "in": true,
	"not-in": true, "below": true, "above": true, "type": true, "identifier": true, "of-type": true,
	"ofType": true, "iterate": true,
}

// lookupStatus says why a lookup failed.
type lookupStatus int

const (
	lookupFound lookupStatus = iota
	lookupNotFound
	lookupAmbiguous
)

// lookup finds code on the candidate types. It returns the parameter (a
// merged copy when several types define it alike: reference targets are
// the union) and the candidates that define it. types nil means the
// common parameters of a system search (or those every _type shares).
func (p *parser) lookup(types []string, code string) (*Param, []string, lookupStatus) {
	if types == nil {
		for _, base := range []string{"Resource", "DomainResource"} {
			if prm, ok := p.reg.Lookup(base, code); ok {
				return prm, nil, lookupFound
			}
		}
		if len(p.q.Types) == 0 {
			return nil, nil, lookupNotFound
		}
		prm, have, st := p.lookup(p.q.Types, code)
		if st == lookupFound && len(have) != len(p.q.Types) {
			return nil, nil, lookupNotFound // only common parameters are allowed
		}
		return prm, have, st
	}
	var params []*Param
	var have []string
	for _, t := range types {
		if prm, ok := p.reg.Lookup(t, code); ok {
			params = append(params, prm)
			have = append(have, t)
		}
	}
	switch len(params) {
	case 0:
		return nil, nil, lookupNotFound
	case 1:
		return params[0], have, lookupFound
	}
	merged := *params[0]
	merged.Targets = slices.Clone(merged.Targets)
	merged.Base = slices.Clone(merged.Base)
	for _, prm := range params[1:] {
		if prm.Type != merged.Type {
			return nil, have, lookupAmbiguous
		}
		for _, t := range prm.Targets {
			if !slices.Contains(merged.Targets, t) {
				merged.Targets = append(merged.Targets, t)
			}
		}
		for _, b := range prm.Base {
			if !slices.Contains(merged.Base, b) {
				merged.Base = append(merged.Base, b)
			}
		}
	}
	return &merged, have, lookupFound
}

// contextTypes are the candidate types of the searched type's own
// parameters: nil for a system search.
func (p *parser) contextTypes() []string {
	if p.typ == "" {
		return nil
	}
	return []string{p.typ}
}

// parseKey reads a parameter name. It reports every problem itself and
// returns false when the parameter cannot be used.
func (p *parser) parseKey(key string) (*keySpec, bool) {
	ks := &keySpec{raw: key}
	switch {
	case key == "_list":
		ks.param = &Param{Code: "_list", Type: Special}
		return ks, true
	case strings.HasPrefix(key, "_list:"):
		p.fail(fhir.CodeInvalid, key, "_list takes no modifier")
		return nil, false
	case strings.HasPrefix(key, "_has:"):
		if p.typ == "" {
			p.fail(fhir.CodeInvalid, key, "_has needs a resource type: it is not available in a system search")
			return nil, false
		}
		return ks, p.parseHas(ks, p.typ, key[len("_has:"):], 1)
	}
	return ks, p.parsePath(ks, p.contextTypes(), key)
}

// parseHas reads "Type:reference:rest" after a "_has:" whose resources
// must refer to cur.
func (p *parser) parseHas(ks *keySpec, cur, rest string, depth int) bool {
	if depth > maxHasDepth {
		p.fail(fhir.CodeTooLong, ks.raw, "_has is nested more than %d deep", maxHasDepth)
		return false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		p.fail(fhir.CodeInvalid, ks.raw, "_has takes the form _has:Type:reference:parameter")
		return false
	}
	typ, refCode, tail := parts[0], parts[1], parts[2]
	if !p.isResourceType(typ) {
		p.fail(fhir.CodeInvalid, ks.raw, "%q in _has is not a resource type", typ)
		return false
	}
	ref, ok := p.reg.Lookup(typ, refCode)
	if !ok {
		p.unsupported(ks.raw, "%s has no search parameter %q", typ, refCode)
		return false
	}
	if ref.Type != Reference {
		p.fail(fhir.CodeInvalid, ks.raw, "%s:%s in _has is a %s parameter, not a reference", typ, refCode, ref.Type)
		return false
	}
	if len(ref.Targets) > 0 && !slices.Contains(ref.Targets, cur) {
		p.fail(fhir.CodeInvalid, ks.raw, "%s:%s cannot refer to a %s", typ, refCode, cur)
		return false
	}
	ks.links = append(ks.links, keyLink{has: true, param: ref, typ: typ})
	if strings.HasPrefix(tail, "_has:") {
		return p.parseHas(ks, typ, tail[len("_has:"):], depth+1)
	}
	return p.parsePath(ks, []string{typ}, tail)
}

// parsePath reads "code[:modifier](.code[:modifier])*" on the candidate
// types: every segment but the last is a reference followed by a chain.
func (p *parser) parsePath(ks *keySpec, types []string, rest string) bool {
	seg, tail, chained := strings.Cut(rest, ".")
	code, mod, hasMod := strings.Cut(seg, ":")
	if code == "" || (hasMod && mod == "") || (chained && tail == "") {
		p.fail(fhir.CodeInvalid, ks.raw, "malformed parameter name")
		return false
	}
	if code == "_has" {
		p.fail(fhir.CodeInvalid, ks.raw, "_has cannot follow a chain")
		return false
	}
	prm, have, st := p.lookup(types, code)
	switch st {
	case lookupNotFound:
		on := "any of " + strings.Join(types, ", ")
		switch {
		case types == nil:
			on = "a system search (only the common parameters, or those every _type shares)"
		case len(types) == 1:
			on = types[0]
		}
		p.unsupported(ks.raw, "unknown search parameter %q on %s", code, on)
		return false
	case lookupAmbiguous:
		p.fail(fhir.CodeInvalid, ks.raw, "%q has different types on %s: name the type with a modifier", code, strings.Join(have, ", "))
		return false
	}
	if prm.Type == Special || prm.Expression == "" {
		p.unsupported(ks.raw, "search parameter %q is not supported by this server", code)
		return false
	}
	// A chain through several targets becomes one type when only one of
	// them has this parameter.
	if n := len(ks.links); n > 0 && !ks.links[n-1].has && ks.links[n-1].typ == "" && len(have) == 1 {
		ks.links[n-1].typ = have[0]
	}
	if !chained {
		return p.finalParam(ks, prm, mod, hasMod)
	}

	if prm.Type != Reference {
		p.fail(fhir.CodeInvalid, ks.raw, "%q is a %s parameter: only a reference can be chained", code, prm.Type)
		return false
	}
	if ks.chains >= maxChainDepth {
		p.fail(fhir.CodeTooLong, ks.raw, "chains are limited to %d links", maxChainDepth)
		return false
	}
	var next []string
	switch {
	case hasMod:
		if !p.isResourceType(mod) {
			p.fail(fhir.CodeInvalid, ks.raw, "only a resource type modifier may precede a chain, not :%s", mod)
			return false
		}
		if len(prm.Targets) > 0 && !slices.Contains(prm.Targets, mod) {
			p.fail(fhir.CodeInvalid, ks.raw, "%q cannot refer to a %s (it refers to %s)", code, mod, strings.Join(prm.Targets, ", "))
			return false
		}
		next = []string{mod}
	default:
		for _, t := range prm.Targets {
			if p.isResourceType(t) {
				next = append(next, t)
			}
		}
		if len(next) == 0 {
			p.fail(fhir.CodeInvalid, ks.raw, "%q can refer to any type: name one with a modifier (%s:Type.%s)", code, code, tail)
			return false
		}
	}
	l := keyLink{param: prm}
	if len(next) == 1 {
		l.typ = next[0]
	}
	ks.links = append(ks.links, l)
	ks.chains++
	return p.parsePath(ks, next, tail)
}

// finalParam checks the modifier on the parameter finally tested.
func (p *parser) finalParam(ks *keySpec, prm *Param, mod string, hasMod bool) bool {
	ks.param = prm
	if !hasMod {
		return true
	}
	if mod == "missing" {
		ks.modifier = ":missing"
		return true
	}
	ok, unsupported := false, false
	switch prm.Type {
	case String:
		ok = mod == "exact" || mod == "contains"
	case Token:
		ok = mod == "text" || mod == "not" || mod == "of-type"
		unsupported = mod == "in" || mod == "not-in" || mod == "above" || mod == "below"
	case URI:
		ok = mod == "above" || mod == "below"
	case Reference:
		ok = mod == "identifier"
		unsupported = mod == "above" || mod == "below"
		if !ok && !unsupported && p.isResourceType(mod) {
			if len(prm.Targets) > 0 && !slices.Contains(prm.Targets, mod) {
				p.fail(fhir.CodeInvalid, ks.raw, "%q cannot refer to a %s (it refers to %s)", prm.Code, mod, strings.Join(prm.Targets, ", "))
				return false
			}
			ks.refType = mod
			return true
		}
	}
	switch {
	case ok:
		ks.modifier = ":" + mod
		return true
	case unsupported:
		p.fail(fhir.CodeNotSupported, ks.raw, "the modifier :%s is not supported by this server", mod)
	case modifierNames[mod]:
		p.fail(fhir.CodeInvalid, ks.raw, "the modifier :%s is not valid on a %s parameter", mod, prm.Type)
	default:
		p.fail(fhir.CodeInvalid, ks.raw, "unknown modifier :%s", mod)
	}
	return false
}
