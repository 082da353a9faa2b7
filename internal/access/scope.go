package access

import (
	"fmt"
	"net/url"
	"strings"
)

// Op is one SMART v2 interaction letter: create, read, update, delete,
// search.
type Op byte

// The interactions a resource scope can allow, in SMART v2 order.
const (
	Create Op = 'c'
	Read   Op = 'r'
	Update Op = 'u'
	Delete Op = 'd'
	Search Op = 's'
)

const opOrder = "cruds"

// Contexts of resource scopes.
const (
	PatientContext = "patient"
	UserContext    = "user"
	SystemContext  = "system"
)

// Scope is one resource scope: patient/Observation.rs?category=laboratory
// is {Context: "patient", Type: "Observation", Ops: "rs", Criteria:
// category=laboratory}.
type Scope struct {
	Context string // patient, user or system
	Type    string // a resource type, or "*"
	Ops     string // a subsequence of "cruds"
	// Criteria is the granular constraint of a v2 scope: a resource is
	// covered only when it matches these search parameters. Nil for none.
	Criteria url.Values
}

// String renders the scope in v2 syntax.
func (s Scope) String() string {
	out := s.Context + "/" + s.Type + "." + s.Ops
	if len(s.Criteria) > 0 {
		out += "?" + s.Criteria.Encode()
	}
	return out
}

// Allows reports whether the scope's letters include op.
func (s Scope) Allows(op Op) bool { return strings.IndexByte(s.Ops, byte(op)) >= 0 }

// ParseScope reads one scope token. ok is false, with no error, for a
// token that is not a resource scope (openid, fhirUser, launch,
// launch/patient, offline_access ...); an error says why a token shaped
// like a resource scope is malformed.
func ParseScope(token string) (s Scope, ok bool, err error) {
	ctx, rest, found := strings.Cut(token, "/")
	if !found || (ctx != PatientContext && ctx != UserContext && ctx != SystemContext) {
		return Scope{}, false, nil
	}
	typ, perm, found := strings.Cut(rest, ".")
	if !found || typ == "" {
		return Scope{}, false, fmt.Errorf("scope %q: want %s/Type.permissions", token, ctx)
	}
	if typ != "*" && !validTypeName(typ) {
		return Scope{}, false, fmt.Errorf("scope %q: %q is not a resource type name", token, typ)
	}
	perm, query, hasQuery := strings.Cut(perm, "?")
	s = Scope{Context: ctx, Type: typ}
	switch perm {
	case "read": // SMART v1
		s.Ops = "rs"
	case "write":
		s.Ops = "cud"
	case "*":
		s.Ops = opOrder
	default:
		if !inOrder(perm) {
			return Scope{}, false, fmt.Errorf("scope %q: permissions must be read, write, * or letters of %q in that order", token, opOrder)
		}
		s.Ops = perm
	}
	if hasQuery {
		if perm == "read" || perm == "write" || perm == "*" {
			return Scope{}, false, fmt.Errorf("scope %q: a granular ?constraint needs v2 permissions (such as .rs)", token)
		}
		q, err := url.ParseQuery(query)
		if err != nil || len(q) == 0 {
			return Scope{}, false, fmt.Errorf("scope %q: malformed constraint %q", token, query)
		}
		s.Criteria = q
	}
	return s, true, nil
}

// inOrder reports whether p is a non-empty subsequence of "cruds" without
// repeats.
func inOrder(p string) bool {
	if p == "" {
		return false
	}
	i := 0
	for j := 0; j < len(p); j++ {
		k := strings.IndexByte(opOrder[i:], p[j])
		if k < 0 {
			return false
		}
		i += k + 1
	}
	return true
}

// validTypeName accepts the shape of a resource type name; whether the
// type exists is the server's question, not the scope syntax's.
func validTypeName(t string) bool {
	if t[0] < 'A' || t[0] > 'Z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Covers reports whether holding s permits everything r asks for: the same
// context, the same type or "*", every letter of r, and no constraint on s
// that r lacks. A client registered with system/*.rs may ask for
// system/Patient.r but not system/Patient.rs?... beyond it.
func (s Scope) Covers(r Scope) bool {
	if s.Context != r.Context || (s.Type != "*" && s.Type != r.Type) {
		return false
	}
	for i := 0; i < len(r.Ops); i++ {
		if !s.Allows(Op(r.Ops[i])) {
			return false
		}
	}
	if len(s.Criteria) == 0 {
		return true
	}
	return s.Criteria.Encode() == r.Criteria.Encode()
}

// Scopes is a parsed scope string: resource scopes plus the other tokens.
type Scopes struct {
	Resource []Scope
	// Other holds the tokens that are not resource scopes, in order
	// (openid, fhirUser, launch, launch/patient, offline_access ...).
	Other []string
}

// ParseScopes reads a space-separated scope string.
func ParseScopes(s string) (Scopes, error) {
	var out Scopes
	for _, tok := range strings.Fields(s) {
		sc, ok, err := ParseScope(tok)
		if err != nil {
			return Scopes{}, err
		}
		if ok {
			out.Resource = append(out.Resource, sc)
		} else {
			out.Other = append(out.Other, tok)
		}
	}
	return out, nil
}

// Has reports whether a non-resource token (such as "openid") is present.
func (s Scopes) Has(token string) bool {
	for _, t := range s.Other {
		if t == token {
			return true
		}
	}
	return false
}

// String renders the scopes space-separated, resource scopes in v2 syntax.
func (s Scopes) String() string {
	parts := make([]string, 0, len(s.Resource)+len(s.Other))
	for _, r := range s.Resource {
		parts = append(parts, r.String())
	}
	parts = append(parts, s.Other...)
	return strings.Join(parts, " ")
}
