package profile

import (
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir"
)

// choiceSuffixes maps the suffix of a choice element's JSON key
// (valueBoolean) to the R4 type it names (boolean).
var choiceSuffixes = func() map[string]string {
	m := map[string]string{}
	for _, t := range []string{
		"base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id",
		"instant", "integer", "markdown", "oid", "positiveInt", "string", "time",
		"unsignedInt", "uri", "url", "uuid",
		"Address", "Age", "Annotation", "Attachment", "CodeableConcept", "Coding",
		"ContactPoint", "Count", "Distance", "Duration", "HumanName", "Identifier",
		"Money", "Period", "Quantity", "Range", "Ratio", "Reference", "SampledData",
		"Signature", "Timing", "ContactDetail", "Contributor", "DataRequirement",
		"Expression", "ParameterDefinition", "RelatedArtifact", "TriggerDefinition",
		"UsageContext", "Dosage", "Meta",
	} {
		m[strings.ToUpper(t[:1])+t[1:]] = t
	}
	return m
}()

const baseSD = "http://hl7.org/fhir/StructureDefinition/"

// linkTypes resolves, once at Load, an element's single type profile in
// the Set and the resource types its Reference targets allow.
func (s *Set) linkTypes(n *node) {
	var inSet []*profile
	for _, t := range n.def.types {
		for _, u := range t.profiles {
			if p, ok := s.lookup(u); ok {
				inSet = append(inSet, p)
			}
		}
	}
	if len(inSet) == 1 {
		n.typeProfile = inSet[0]
	}
	for _, t := range n.def.types {
		if t.code != "Reference" || len(t.targetProfiles) == 0 {
			continue
		}
		targets := map[string]bool{}
		for _, u := range t.targetProfiles {
			typ := ""
			if p, ok := s.lookup(u); ok {
				typ = p.typ
			} else if rest, ok := strings.CutPrefix(strings.SplitN(u, "|", 2)[0], baseSD); ok && !strings.Contains(rest, "/") {
				typ = rest
			}
			if typ == "" || typ == "Resource" || typ == "DomainResource" {
				return // a target we cannot name: leave references unchecked
			}
			targets[typ] = true
		}
		n.targets = targets
	}
}

// checkReference checks that a Reference written Type/id (or #id) points
// to a type the element's targetProfiles allow.
func (w *walker) checkReference(n *node, it item) {
	if n.targets == nil {
		return
	}
	obj, ok := it.value.(map[string]any)
	if !ok {
		return
	}
	ref := str(obj["reference"])
	typ := referenceType(w.root, ref)
	if typ == "" {
		return
	}
	if !n.targets[typ] {
		w.report(fhir.CodeStructure, fmt.Sprintf("reference %q points to a %s; %s must reference %s", ref, typ, n.def.name(), targetList(n.targets)), it.path)
	}
}

// referenceType reads the resource type a reference names: "Type/id",
// "http://base/Type/id[/_history/v]", or "#id" of a contained resource.
// Anything else (urn:uuid:, a bare id, a URL whose second-last segment is
// not an R4 resource type) names no type.
func referenceType(root map[string]any, ref string) string {
	if local, ok := strings.CutPrefix(ref, "#"); ok {
		for _, c := range list(root["contained"]) {
			if cm, ok := c.(map[string]any); ok && str(cm["id"]) == local {
				return str(cm["resourceType"])
			}
		}
		return ""
	}
	if ref == "" || strings.HasPrefix(ref, "urn:") {
		return ""
	}
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	segs := strings.Split(strings.TrimSuffix(ref, "/"), "/")
	if len(segs) < 2 {
		return ""
	}
	typ := segs[len(segs)-2]
	if !fhir.IsResourceType(typ) {
		return "" // "http://x/ig/Network/n": a URL, not a resource reference
	}
	return typ
}

func targetList(targets map[string]bool) string {
	var names []string
	for t := range targets {
		names = append(names, t)
	}
	sortStrings(names)
	return strings.Join(names, " or ")
}
