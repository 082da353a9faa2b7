// Package fhir is the server's FHIR R4 knowledge with no I/O: parsing and
// validating resources (github.com/google/fhir/go), marshalling them back to
// JSON, OperationOutcomes and the CapabilityStatement.
package fhir

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
)

// Codec parses, validates and marshals R4 JSON resources. It is safe for
// concurrent use.
type Codec struct {
	um *jsonformat.Unmarshaller
	m  *jsonformat.Marshaller
}

// maxNestingDepth stops hostile, deeply nested documents before they cost
// stack and time; real resources (even Questionnaires) stay far below it.
const maxNestingDepth = 100

// NewCodec returns a Codec for R4 that validates what it parses.
func NewCodec() (*Codec, error) {
	um, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir: new unmarshaller: %w", err)
	}
	um.MaxNestingDepth = maxNestingDepth
	m, err := jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir: new marshaller: %w", err)
	}
	return &Codec{um: um, m: m}, nil
}

// Parse parses and validates one resource. On any problem it returns an
// Outcome listing every issue the parser found, each naming its element.
func (c *Codec) Parse(data []byte) (*Resource, *Outcome) {
	if mayHoldParameterResources(data) {
		if r, o, ok := c.parseParameters(data); ok {
			return r, o
		}
	}
	return c.parse(data)
}

// parse is Parse without the Parameters workaround.
func (c *Codec) parse(data []byte) (*Resource, *Outcome) {
	msg, err := c.um.Unmarshal(data)
	if err != nil {
		return nil, outcomeFromParseError(err)
	}
	r, err := newResource(msg)
	if err != nil {
		return nil, NewOutcome(SeverityError, CodeStructure, err.Error())
	}
	return r, nil
}

// Marshal renders a resource as compact JSON.
func (c *Codec) Marshal(r *Resource) ([]byte, error) {
	if r.tree != nil {
		return EncodeResource(r.tree)
	}
	return c.marshalProto(r)
}

// marshalProto is Marshal from the protocol buffer.
func (c *Codec) marshalProto(r *Resource) ([]byte, error) {
	b, err := c.m.Marshal(r.contained)
	if err != nil {
		return nil, fmt.Errorf("fhir: marshal %s: %w", r.Type(), err)
	}
	if len(r.nested) > 0 {
		if b, err = c.insertNested(b, r.nested); err != nil {
			return nil, err
		}
	}
	return resourceTypeFirst(b), nil
}

// resourceTypeFirst moves the top-level "resourceType" member to the front,
// where people and streaming parsers look for it. The marshaller sorts
// members by name, and every member that can hold a nested resource
// (contained, entry, parameter) sorts before "resourceType", so the last
// occurrence of the member is the top-level one. Inside JSON strings the
// quotes would be escaped, so the pattern cannot match string content.
func resourceTypeFirst(b []byte) []byte {
	const key = `"resourceType":"`
	i := bytes.LastIndex(b, []byte(key))
	if i <= 1 || b[0] != '{' {
		return b // already first, or not an object
	}
	end := bytes.IndexByte(b[i+len(key):], '"')
	if end < 0 || b[i-1] != ',' {
		return b
	}
	member := b[i : i+len(key)+end+1] // "resourceType":"Patient"
	out := make([]byte, 0, len(b))
	out = append(out, '{')
	out = append(out, member...)
	out = append(out, ',')
	out = append(out, b[1:i-1]...)
	out = append(out, b[i+len(member):]...)
	return out
}

// outcomeFromParseError turns the parser's errors into issues. The parser's
// error types live in an internal package, so their exported fields (Path,
// Details, Diagnostics) are read by reflection rather than by parsing
// Error() text, which drops the diagnostics.
func outcomeFromParseError(err error) *Outcome {
	o := &Outcome{ResourceType: "OperationOutcome"}
	v := reflect.ValueOf(err)
	switch {
	case v.Kind() == reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			addParseIssue(o, v.Index(i))
		}
	case v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct:
		addParseIssue(o, v)
	}
	if len(o.Issue) == 0 {
		o.Add(SeverityError, CodeInvalid, err.Error())
	}
	return o
}

func addParseIssue(o *Outcome, v reflect.Value) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	field := func(name string) string {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.String {
			return ""
		}
		return f.String()
	}
	path, details, diag := field("Path"), field("Details"), field("Diagnostics")
	code, expr, text := classifyParseIssue(path, details, diag)
	if expr == "" {
		o.Add(SeverityError, code, text)
		return
	}
	o.Add(SeverityError, code, text, expr)
}

// classifyParseIssue maps one parser error to an issue type, the FHIRPath of
// the element at fault and a readable message.
func classifyParseIssue(path, details, diag string) (code, expr, text string) {
	text = details
	if diag != "" {
		text = details + ": " + diag
	}
	expr = path
	switch {
	case details == "invalid JSON":
		return CodeStructure, path, text
	case details == "unknown field":
		if name, err := strconv.Unquote(diag); err == nil {
			expr = joinPath(path, name)
			text = fmt.Sprintf("unknown element %q", name)
		}
		return CodeStructure, expr, text
	case strings.HasPrefix(details, "missing required field"):
		if name, err := strconv.Unquote(strings.TrimSpace(strings.TrimPrefix(details, "missing required field"))); err == nil {
			expr = joinPath(path, fhirName(name))
			text = fmt.Sprintf("missing required element %q", fhirName(name))
		}
		return CodeRequired, expr, text
	case details == "unknown resource type":
		return CodeNotSupported, "", text
	case strings.Contains(details, "code type mismatch") || strings.Contains(details, "invalid code"):
		return CodeCodeInvalid, expr, text
	case strings.HasPrefix(details, "invalid reference"):
		return CodeValue, expr, text
	case strings.HasPrefix(details, "expected"), strings.Contains(details, "invalid"), strings.Contains(details, "does not match"):
		return CodeValue, expr, text
	}
	return CodeInvalid, expr, text
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// fhirName turns a proto field name (value_quantity) into the JSON element
// name (valueQuantity); FHIR names are already camelCase, so most pass through.
func fhirName(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
