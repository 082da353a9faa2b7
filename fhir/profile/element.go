package profile

import (
	"fmt"
	"strconv"
	"strings"
)

// elementDef is the part of an ElementDefinition the validator uses.
type elementDef struct {
	id, path, sliceName string
	min                 int
	max                 int // -1 for "*"
	types               []typeRef
	fixed, pattern      any // nil when absent
	binding             *bindingDef
	constraints         []constraintDef
	slicing             *slicingDef
	contentReference    string
}

type typeRef struct {
	code           string
	profiles       []string
	targetProfiles []string
}

type bindingDef struct{ strength, valueSet string }

type constraintDef struct {
	key, severity, human, expression, source string
}

type slicingDef struct {
	discriminators []discriminator
	rules          string
}

type discriminator struct{ typ, path string }

// parseElement reads one snapshot element (decoded with json.Number).
func parseElement(m map[string]any) (*elementDef, error) {
	d := &elementDef{
		id:               str(m["id"]),
		path:             str(m["path"]),
		sliceName:        str(m["sliceName"]),
		max:              -1,
		contentReference: str(m["contentReference"]),
	}
	if d.path == "" {
		return nil, fmt.Errorf("element %q has no path", d.id)
	}
	if v, ok := m["min"]; ok {
		n, err := strconv.Atoi(fmt.Sprint(v))
		if err != nil {
			return nil, fmt.Errorf("element %s: min %v is not an integer", d.path, v)
		}
		d.min = n
	}
	if v := str(m["max"]); v != "" && v != "*" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("element %s: max %q is not an integer or *", d.path, v)
		}
		d.max = n
	}
	for _, t := range list(m["type"]) {
		tm, _ := t.(map[string]any)
		d.types = append(d.types, typeRef{
			code:           typeCode(tm),
			profiles:       strs(tm["profile"]),
			targetProfiles: strs(tm["targetProfile"]),
		})
	}
	for k, v := range m {
		switch {
		case strings.HasPrefix(k, "fixed") && len(k) > 5:
			d.fixed = v
		case strings.HasPrefix(k, "pattern") && len(k) > 7:
			d.pattern = v
		}
	}
	if b, ok := m["binding"].(map[string]any); ok {
		d.binding = &bindingDef{strength: str(b["strength"]), valueSet: str(b["valueSet"])}
	}
	for _, c := range list(m["constraint"]) {
		cm, _ := c.(map[string]any)
		d.constraints = append(d.constraints, constraintDef{
			key: str(cm["key"]), severity: str(cm["severity"]), human: str(cm["human"]),
			expression: str(cm["expression"]), source: str(cm["source"]),
		})
	}
	if s, ok := m["slicing"].(map[string]any); ok {
		d.slicing = &slicingDef{rules: str(s["rules"])}
		for _, x := range list(s["discriminator"]) {
			xm, _ := x.(map[string]any)
			d.slicing.discriminators = append(d.slicing.discriminators, discriminator{typ: str(xm["type"]), path: str(xm["path"])})
		}
	}
	return d, nil
}

// typeCode reads a type's code; the FHIRPath system types that the R4
// snapshots use for id, url and the like become the FHIR primitive named
// in their structuredefinition-fhir-type extension (else string).
func typeCode(t map[string]any) string {
	code := str(t["code"])
	if !strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
		return code
	}
	for _, e := range list(t["extension"]) {
		em, _ := e.(map[string]any)
		if str(em["url"]) == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" {
			if v := str(em["valueUrl"]) + str(em["valueUri"]); v != "" {
				return v
			}
		}
	}
	return strings.ToLower(code[len("http://hl7.org/fhirpath/System."):][:1]) + code[len("http://hl7.org/fhirpath/System.")+1:]
}

// name is the element's own name: the last segment of its path.
func (d *elementDef) name() string { return d.path[strings.LastIndexByte(d.path, '.')+1:] }

// singleType is the element's type when it has exactly one.
func (d *elementDef) singleType() string {
	if len(d.types) == 1 {
		return d.types[0].code
	}
	return ""
}

func (d *elementDef) allowsType(code string) bool {
	for _, t := range d.types {
		if t.code == code {
			return true
		}
	}
	return len(d.types) == 0
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
