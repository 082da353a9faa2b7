package profile

import (
	"fmt"

	"github.com/telederm/telederm/fhir"
)

// checkBinding checks a required binding to a ValueSet in the Set on a
// code/string/uri, a Coding, or a CodeableConcept (some coding must be in
// the ValueSet). Other strengths, and ValueSets not in the Set, are not
// checked.
func (w *walker) checkBinding(n *node, it item) {
	b := n.def.binding
	if b == nil || b.strength != "required" || b.valueSet == "" {
		return
	}
	if known, _ := w.set.ValueSetContains(b.valueSet, "", ""); !known {
		return
	}
	switch v := it.value.(type) {
	case string:
		if _, ok := w.set.ValueSetContains(b.valueSet, "", v); !ok {
			w.report(fhir.CodeCodeInvalid, fmt.Sprintf("code %q is not in the value set %s", v, b.valueSet), it.path)
		}
	case map[string]any:
		if isCodeableConcept(it.typ, v) {
			w.checkConcept(b.valueSet, v, it.path)
		} else if it.typ == "Coding" || it.typ == "" && v["code"] != nil {
			w.checkCoding(b.valueSet, v, it.path)
		}
	}
}

func isCodeableConcept(typ string, v map[string]any) bool {
	if typ != "" {
		return typ == "CodeableConcept"
	}
	_, hasCoding := v["coding"]
	_, hasText := v["text"]
	return hasCoding || hasText && v["code"] == nil
}

func (w *walker) checkCoding(vs string, c map[string]any, path string) {
	code := str(c["code"])
	if code == "" {
		w.report(fhir.CodeCodeInvalid, "a code from the value set "+vs+" is required", path)
		return
	}
	if _, ok := w.set.ValueSetContains(vs, str(c["system"]), code); !ok {
		w.report(fhir.CodeCodeInvalid, fmt.Sprintf("code %s#%s is not in the value set %s", str(c["system"]), code, vs), path)
	}
}

func (w *walker) checkConcept(vs string, cc map[string]any, path string) {
	codings := list(cc["coding"])
	for _, c := range codings {
		cm, _ := c.(map[string]any)
		if _, ok := w.set.ValueSetContains(vs, str(cm["system"]), str(cm["code"])); ok && str(cm["code"]) != "" {
			return
		}
	}
	if len(codings) == 0 {
		w.report(fhir.CodeCodeInvalid, "a coding from the value set "+vs+" is required", path)
		return
	}
	w.report(fhir.CodeCodeInvalid, "no coding is in the value set "+vs, path)
}
