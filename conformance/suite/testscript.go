package suite

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TestScript is the part of an R4 TestScript resource the runner executes.
// Unknown elements are ignored, so any valid TestScript decodes.
type TestScript struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	URL          string            `json:"url"`
	Name         string            `json:"name"`
	Title        string            `json:"title"`
	Description  string            `json:"description"`
	Extension    []Extension       `json:"extension"`
	Contained    []json.RawMessage `json:"contained"`
	Origin       []struct {
		Index int `json:"index"`
	} `json:"origin"`
	Destination []struct {
		Index int `json:"index"`
	} `json:"destination"`
	Fixture  []Fixture  `json:"fixture"`
	Profile  []Ref      `json:"profile"`
	Variable []Variable `json:"variable"`
	Setup    *Section   `json:"setup"`
	Test     []Test     `json:"test"`
	Teardown *Section   `json:"teardown"`
}

// Extension is a FHIR extension; only the values the runner reads.
type Extension struct {
	URL         string      `json:"url"`
	ValueString string      `json:"valueString,omitempty"`
	Extension   []Extension `json:"extension,omitempty"`
}

// Ref is a Reference (fixture.resource, profile).
type Ref struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Display   string `json:"display"`
}

// Fixture is TestScript.fixture.
type Fixture struct {
	ID         string `json:"id"`
	Autocreate bool   `json:"autocreate"`
	Autodelete bool   `json:"autodelete"`
	Resource   *Ref   `json:"resource"`
}

// Variable is TestScript.variable.
type Variable struct {
	Name         string `json:"name"`
	DefaultValue string `json:"defaultValue"`
	Description  string `json:"description"`
	Expression   string `json:"expression"`
	HeaderField  string `json:"headerField"`
	Hint         string `json:"hint"`
	Path         string `json:"path"`
	SourceID     string `json:"sourceId"`
}

// Section is setup or teardown.
type Section struct {
	Action []Action `json:"action"`
}

// Test is TestScript.test.
type Test struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Extension   []Extension `json:"extension"`
	Action      []Action    `json:"action"`
}

// Action is one setup, test or teardown action: an operation or an assert.
type Action struct {
	Operation *Operation `json:"operation"`
	Assert    *Assert    `json:"assert"`
}

// Coding is the operation type.
type Coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// Header is operation.requestHeader.
type Header struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Operation is TestScript.setup.action.operation.
type Operation struct {
	Type             *Coding  `json:"type"`
	Resource         string   `json:"resource"`
	Label            string   `json:"label"`
	Description      string   `json:"description"`
	Accept           string   `json:"accept"`
	ContentType      string   `json:"contentType"`
	Destination      *int     `json:"destination"`
	EncodeRequestURL *bool    `json:"encodeRequestUrl"`
	Method           string   `json:"method"`
	Origin           *int     `json:"origin"`
	Params           string   `json:"params"`
	RequestHeader    []Header `json:"requestHeader"`
	RequestID        string   `json:"requestId"`
	ResponseID       string   `json:"responseId"`
	SourceID         string   `json:"sourceId"`
	TargetID         string   `json:"targetId"`
	URL              string   `json:"url"`
}

// code is the operation type code ("" when the operation names none).
func (o *Operation) code() string {
	if o.Type == nil {
		return ""
	}
	return o.Type.Code
}

// Assert is TestScript.setup.action.assert.
type Assert struct {
	Label                     string `json:"label"`
	Description               string `json:"description"`
	Direction                 string `json:"direction"`
	CompareToSourceID         string `json:"compareToSourceId"`
	CompareToSourceExpression string `json:"compareToSourceExpression"`
	CompareToSourcePath       string `json:"compareToSourcePath"`
	ContentType               string `json:"contentType"`
	Expression                string `json:"expression"`
	HeaderField               string `json:"headerField"`
	MinimumID                 string `json:"minimumId"`
	NavigationLinks           *bool  `json:"navigationLinks"`
	Operator                  string `json:"operator"`
	Path                      string `json:"path"`
	RequestMethod             string `json:"requestMethod"`
	RequestURL                string `json:"requestURL"`
	Resource                  string `json:"resource"`
	Response                  string `json:"response"`
	ResponseCode              string `json:"responseCode"`
	SourceID                  string `json:"sourceId"`
	ValidateProfileID         string `json:"validateProfileId"`
	Value                     string `json:"value"`
	WarningOnly               bool   `json:"warningOnly"`
}

// RequiresExtension marks a TestScript or one of its tests as needing
// something of the server, said as a FHIRPath expression on its
// CapabilityStatement (sub-extension "expression") with the reason to give
// when it is not there (sub-extension "reason").
const RequiresExtension = "https://github.com/telederm/telederm/fhir/StructureDefinition/testscript-requires"

// requirement is one RequiresExtension.
type requirement struct{ expression, reason string }

func requirements(exts []Extension) ([]requirement, error) {
	var out []requirement
	for _, e := range exts {
		if e.URL != RequiresExtension {
			continue
		}
		var r requirement
		for _, sub := range e.Extension {
			switch sub.URL {
			case "expression":
				r.expression = sub.ValueString
			case "reason":
				r.reason = sub.ValueString
			}
		}
		if r.expression == "" {
			return nil, fmt.Errorf("extension %s without an expression", RequiresExtension)
		}
		if r.reason == "" {
			r.reason = "server's CapabilityStatement does not satisfy " + r.expression
		}
		out = append(out, r)
	}
	return out, nil
}

// ParseTestScript decodes and checks one TestScript.
func ParseTestScript(data []byte) (*TestScript, error) {
	var ts TestScript
	if err := json.Unmarshal(data, &ts); err != nil {
		return nil, fmt.Errorf("not a TestScript: %w", err)
	}
	if ts.ResourceType != "TestScript" {
		return nil, fmt.Errorf("resourceType is %q, not TestScript", ts.ResourceType)
	}
	if len(ts.Test) == 0 {
		return nil, fmt.Errorf("TestScript %s has no test", ts.Label())
	}
	if _, err := requirements(ts.Extension); err != nil {
		return nil, err
	}
	for i, t := range ts.Test {
		if _, err := requirements(t.Extension); err != nil {
			return nil, fmt.Errorf("test[%d]: %w", i, err)
		}
		if len(t.Action) == 0 {
			return nil, fmt.Errorf("test[%d] (%s) has no action", i, t.Label(i))
		}
		for j, a := range t.Action {
			if (a.Operation == nil) == (a.Assert == nil) {
				return nil, fmt.Errorf("test[%d].action[%d]: needs exactly one of operation and assert", i, j)
			}
		}
	}
	for _, s := range []*Section{ts.Setup, ts.Teardown} {
		if s == nil {
			continue
		}
		for j, a := range s.Action {
			if (a.Operation == nil) == (a.Assert == nil) {
				return nil, fmt.Errorf("action[%d]: needs exactly one of operation and assert", j)
			}
		}
	}
	return &ts, nil
}

// Label names a script in reports and filters: its id, else its name.
func (ts *TestScript) Label() string {
	if ts.ID != "" {
		return ts.ID
	}
	if ts.Name != "" {
		return ts.Name
	}
	return "(unnamed)"
}

// Label names the i-th test of a script in reports and filters: its id,
// else its name, else its position.
func (t Test) Label(i int) string {
	switch {
	case t.ID != "":
		return t.ID
	case t.Name != "":
		return t.Name
	}
	return fmt.Sprintf("test-%d", i+1)
}

// describe is a short human label for an action.
func (a Action) describe() string {
	switch {
	case a.Operation != nil:
		o := a.Operation
		if o.Label != "" {
			return o.Label
		}
		if o.Description != "" {
			return firstSentence(o.Description)
		}
		return "operation " + o.code()
	case a.Assert != nil:
		if a.Assert.Label != "" {
			return a.Assert.Label
		}
		if a.Assert.Description != "" {
			return firstSentence(a.Assert.Description)
		}
		return "assert"
	}
	return "action"
}

func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}
