package search

import (
	"strings"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// Token indexing, after the R4 token table (search.html#token):
//
//	Coding           System, Code; Text = display
//	CodeableConcept  one entry per coding (Text = its display, else the
//	                 concept's text); the concept's text, when no coding
//	                 carries it, rides on one more entry (the first
//	                 coding's System/Code, or none when there is no coding)
//	Identifier       System, Code = value; one entry without type and one per
//	                 Identifier.type coding (TypeSystem, TypeCode);
//	                 Text = type.text, else the first type display
//	ContactPoint     Code = value, no System (the table leaves the system out)
//	boolean          Code "true" / "false"
//	code, id, string, uri and other primitives: Code = the value
//
// Text is always normalised (Normalize), for :text. Other complex types
// (Reference, Quantity, ...) yield nothing.
func indexToken(dst []Entry, code string, n fhirpath.Node) []Entry {
	add := func(e Entry) {
		if e.System == "" && e.Code == "" && e.Text == "" {
			return
		}
		e.Param, e.Kind = code, Token
		dst = append(dst, e)
	}
	switch v := n.Value.(type) {
	case string:
		if strings.TrimSpace(v) != "" {
			add(Entry{Code: v})
		}
		return dst
	case bool:
		if v {
			add(Entry{Code: "true"})
		} else {
			add(Entry{Code: "false"})
		}
		return dst
	case map[string]any:
		switch ixType(n) {
		case "Coding":
			add(ixCoding(v, ""))
		case "CodeableConcept":
			text := Normalize(ixStr(v, "text"))
			codings := ixObjs(v, "coding")
			carried := text == ""
			for _, c := range codings {
				e := ixCoding(c, text)
				carried = carried || e.Text == text
				add(e)
			}
			if !carried {
				e := Entry{Text: text}
				if len(codings) > 0 {
					e.System, e.Code = ixStr(codings[0], "system"), ixStr(codings[0], "code")
				}
				add(e)
			}
		case "Identifier":
			e := Entry{System: ixStr(v, "system"), Code: ixStr(v, "value")}
			if e.System == "" && e.Code == "" {
				return dst
			}
			typ, _ := v["type"].(map[string]any)
			types := ixObjs(typ, "coding")
			if typ != nil {
				e.Text = Normalize(ixStr(typ, "text"))
				for _, c := range types {
					if e.Text != "" {
						break
					}
					e.Text = Normalize(ixStr(c, "display"))
				}
			}
			add(e)
			for _, c := range types {
				t := e
				t.TypeSystem, t.TypeCode = ixStr(c, "system"), ixStr(c, "code")
				if t.TypeSystem != "" || t.TypeCode != "" {
					add(t)
				}
			}
		case "ContactPoint":
			if s := ixStr(v, "value"); strings.TrimSpace(s) != "" {
				add(Entry{Code: s})
			}
		}
		return dst
	}
	if s, ok := ixNumText(n.Value); ok {
		add(Entry{Code: s})
	}
	return dst
}

// ixCoding is a Coding's entry; text (already normalised) stands in for
// a missing display.
func ixCoding(c map[string]any, text string) Entry {
	e := Entry{System: ixStr(c, "system"), Code: ixStr(c, "code"), Text: Normalize(ixStr(c, "display"))}
	if e.Text == "" {
		e.Text = text
	}
	return e
}
