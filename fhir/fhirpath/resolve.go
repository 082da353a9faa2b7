package fhirpath

import "strings"

// resolveStep is resolve(). There is no I/O here: a "#id" reference yields
// the contained resource; any other reference yields a stub resource
// {"resourceType": T, "id": id} read from the reference text, which is all
// "resolve() is T" needs. References whose type cannot be told (urn:uuid,
// identifier-only without "type") yield nothing.
type resolveStep struct{}

func (resolveStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	var out []Node
	for _, n := range in {
		typ, id, contained := refTarget(c, n.Value)
		switch {
		case contained != nil:
			out = append(out, Node{Value: contained, Type: typ})
		case typ != "":
			stub := map[string]any{"resourceType": typ}
			if id != "" {
				stub["id"] = id
			}
			out = append(out, Node{Value: stub, Type: typ})
		}
	}
	return out, nil
}

// resolveIsStep is "resolve() is T" fused at compile time, so the common
// "subject.where(resolve() is Patient)" allocates nothing.
type resolveIsStep struct{ typ string }

func (s resolveIsStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	var got string
	switch len(in) {
	case 0:
		return nil, nil
	case 1:
		got, _, _ = refTarget(c, in[0].Value)
	default:
		// More than one reference: resolve() gives several resources and
		// "is" wants one.
		return resolveThenIs(c, in, s.typ)
	}
	if got == "" {
		return nil, nil
	}
	return boolResult(typeMatches(got, s.typ, map[string]any(nil)) || isResourceBase(s.typ, got)), nil
}

func resolveThenIs(c *evalCtx, in []Node, typ string) ([]Node, error) {
	return isStep{x: pathStep{thisStep{}, resolveStep{}}, typ: typ}.eval(c, in)
}

// isResourceBase covers "is Resource" / "is DomainResource" for a type name
// known without its resource.
func isResourceBase(t, rt string) bool {
	return t == "Resource" || t == "DomainResource" && isDomainResource(rt)
}

// refTarget reads the resource type and id a Reference (or a canonical or
// uri string) points to. For "#id" it also returns the contained resource.
func refTarget(c *evalCtx, v any) (typ, id string, contained map[string]any) {
	var ref string
	switch x := v.(type) {
	case string:
		ref = x
	case map[string]any:
		ref, _ = x["reference"].(string)
		if ref == "" {
			t, _ := x["type"].(string)
			return lastSegment(t), "", nil
		}
	default:
		return "", "", nil
	}
	if local, ok := strings.CutPrefix(ref, "#"); ok {
		return findContained(c.resource, local)
	}
	if i := strings.IndexByte(ref, '|'); i >= 0 { // canonical version
		ref = ref[:i]
	}
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	ref = strings.TrimSuffix(ref, "/")
	slash := strings.LastIndexByte(ref, '/')
	if slash < 0 {
		return "", "", nil
	}
	id = ref[slash+1:]
	head := ref[:slash]
	typ = head[strings.LastIndexByte(head, '/')+1:]
	if !isTypeName(typ) || id == "" {
		return "", "", nil
	}
	return typ, id, nil
}

func findContained(resource map[string]any, id string) (string, string, map[string]any) {
	list, _ := resource["contained"].([]any)
	for _, e := range list {
		m, ok := e.(map[string]any)
		if ok && m["id"] == id {
			if rt := resourceTypeOf(m); rt != "" {
				return rt, id, m
			}
		}
	}
	return "", "", nil
}

// lastSegment reads "Patient" from a type given as a name or as a
// StructureDefinition URL (Reference.type may be either).
func lastSegment(t string) string {
	t = t[strings.LastIndexByte(t, '/')+1:]
	if !isTypeName(t) {
		return ""
	}
	return t
}

// isTypeName accepts what a resource type name looks like: a capital
// letter followed by letters.
func isTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
