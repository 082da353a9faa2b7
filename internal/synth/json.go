package synth

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// obj is a JSON object whose members keep the order they were given in,
// so resources read naturally (resourceType first) and bytes are stable.
type obj []member

type member struct {
	key string
	val any
}

// dec is a FHIR decimal, written as its digits (trailing zeros kept).
type dec string

// o builds an object from alternating keys and values. Absent values (nil,
// "", empty objects and lists) are left out, as FHIR allows no empty
// elements, so optional elements can be passed unconditionally.
func o(kv ...any) obj {
	m := make(obj, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if empty(kv[i+1]) {
			continue
		}
		m = append(m, member{kv[i].(string), kv[i+1]})
	}
	return m
}

func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case dec:
		return v == ""
	case obj:
		return len(v) == 0
	case []obj:
		return len(v) == 0
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}

// appendJSON writes v as compact JSON.
func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case obj:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			b = appendJSON(b, m.val)
		}
		return append(b, '}')
	case []obj:
		return appendArray(b, v, func(b []byte, e obj) []byte { return appendJSON(b, e) })
	case []string:
		return appendArray(b, v, appendString)
	case []any:
		return appendArray(b, v, appendJSON)
	case string:
		return appendString(b, v)
	case dec:
		return append(b, v...)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	}
	panic(fmt.Sprintf("synth: cannot encode %T (decimals are dec)", v))
}

// appendString writes s as a JSON string, escaping what JSON requires.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		case c < utf8.RuneSelf:
			b = append(b, c)
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			b = append(b, s[i:i+size]...)
			i += size
			continue
		}
		i++
	}
	return append(b, '"')
}

// bundle collects transaction entries.
type bundle struct {
	entries []obj
}

// add appends a POST of res (whose resourceType is typ) under fullURL.
func (b *bundle) add(fullURL, typ string, res obj) {
	b.entries = append(b.entries, o(
		"fullUrl", fullURL,
		"resource", append(obj{{"resourceType", typ}}, res...),
		"request", o("method", "POST", "url", typ),
	))
}

// json is the transaction Bundle.
func (b *bundle) json() []byte {
	out := make([]byte, 0, 1024*len(b.entries))
	return appendJSON(out, o("resourceType", "Bundle", "type", "transaction", "entry", b.entries))
}

// --- FHIR datatypes ---

const (
	snomed  = "http://snomed.info/sct"
	loinc   = "http://loinc.org"
	ucum    = "http://unitsofmeasure.org"
	rxnorm  = "http://www.nlm.nih.gov/research/umls/rxnorm"
	cvx     = "http://hl7.org/fhir/sid/cvx"
	nhsNo   = "https://fhir.nhs.uk/Id/nhs-number"
	odsCode = "https://fhir.nhs.uk/Id/ods-organization-code"
	gmcNo   = "https://fhir.hl7.org.uk/Id/gmc-number"
	project = "https://telederm.example/fhir/"
	local   = project + "CodeSystem/"
	termCS  = "http://terminology.hl7.org/CodeSystem/"
)

// code is a coded concept: system, code and display.
type code struct{ system, code, display string }

func (c code) coding() obj { return o("system", c.system, "code", c.code, "display", c.display) }

// cc is a CodeableConcept of one coding, with text.
func (c code) cc() obj {
	return o("coding", []obj{c.coding()}, "text", c.display)
}

func sct(c, display string) code { return code{snomed, c, display} }

// ccOf is a CodeableConcept of a coding in an HL7 terminology code system.
func ccOf(system, c, display string) obj {
	return o("coding", []obj{o("system", termCS+system, "code", c, "display", display)})
}

func ref(url string) obj { return o("reference", url) }

func refs(urls ...string) []obj {
	out := make([]obj, len(urls))
	for i, u := range urls {
		out[i] = ref(u)
	}
	return out
}

// quantity is a UCUM Quantity.
func quantity(value dec, unit, ucumCode string) obj {
	return o("value", value, "unit", unit, "system", ucum, "code", ucumCode)
}

// decimal renders f with the given number of decimal places.
func decimal(f float64, places int) dec { return dec(strconv.FormatFloat(f, 'f', places, 64)) }

// appendArray writes v as a JSON array, each element by appendElem.
func appendArray[T any](b []byte, v []T, appendElem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, e := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendElem(b, e)
	}
	return append(b, ']')
}
