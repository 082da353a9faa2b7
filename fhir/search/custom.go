package search

import (
	"encoding/json"
	"fmt"
)

// DefaultParams returns a copy of the R4 search parameters, for building a
// registry that adds parameters of its own (NewRegistry(append(DefaultParams(), mine...))).
func DefaultParams() []Param { return append([]Param(nil), generatedParams...) }

// searchParameterJSON is the part of an R4 SearchParameter resource a
// Param is made from.
type searchParameterJSON struct {
	ResourceType string   `json:"resourceType"`
	URL          string   `json:"url"`
	Code         string   `json:"code"`
	Type         Type     `json:"type"`
	Base         []string `json:"base"`
	Expression   string   `json:"expression"`
	Target       []string `json:"target"`
	Modifier     []string `json:"modifier"`
	Comparator   []string `json:"comparator"`
	Description  string   `json:"description"`
	Component    []struct {
		Definition string `json:"definition"`
		Expression string `json:"expression"`
	} `json:"component"`
}

// ParamFromJSON reads an R4 SearchParameter resource (a server's own
// parameter, published beside its profiles).
func ParamFromJSON(b []byte) (Param, error) {
	var sp searchParameterJSON
	if err := json.Unmarshal(b, &sp); err != nil {
		return Param{}, fmt.Errorf("search parameter: %w", err)
	}
	if sp.ResourceType != "SearchParameter" {
		return Param{}, fmt.Errorf("search parameter: resourceType is %q", sp.ResourceType)
	}
	switch {
	case sp.URL == "", sp.Code == "", len(sp.Base) == 0, sp.Type == "":
		return Param{}, fmt.Errorf("search parameter %q: url, code, base and type are required", sp.URL)
	}
	switch sp.Type {
	case Number, Date, String, Token, Reference, Composite, Quantity, URI, Special:
	default:
		return Param{}, fmt.Errorf("search parameter %s: unknown type %q", sp.URL, sp.Type)
	}
	p := Param{Code: sp.Code, URL: sp.URL, Type: sp.Type, Base: sp.Base, Expression: sp.Expression,
		Targets: sp.Target, Modifiers: sp.Modifier, Comparators: sp.Comparator, Description: sp.Description}
	for _, c := range sp.Component {
		p.Components = append(p.Components, Component{Definition: c.Definition, Expression: c.Expression})
	}
	if _, err := compileParam(&p); err != nil {
		return Param{}, fmt.Errorf("search parameter %s: %w", sp.URL, err)
	}
	return p, nil
}
