package triage

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"
)

//go:embed rules.json
var defaultRules []byte

//go:embed rules.schema.json
var rulesSchema []byte

// Pathway codes (CodeSystem triage-pathway).
const (
	SuspectedCancer = "suspected-cancer"
	Routine         = "routine"
)

// Severities of a missing item.
const (
	Required    = "required"
	Recommended = "recommended"
)

// Rules is a loaded, checked rules file. Field names follow the JSON.
type Rules struct {
	Version   string                 `json:"version"`
	Pathways  map[string]PathwayInfo `json:"pathways"`
	Checklist Checklist              `json:"checklist"`
	Rules     []Rule                 `json:"rules"`
	Photos    PhotoRules             `json:"photos"`
	Consent   SimpleRule             `json:"consent"`
	Override  RuleText               `json:"override"`
}

// PathwayInfo is what a pathway means for the request.
type PathwayInfo struct {
	Display        string `json:"display"`
	Priority       string `json:"priority"` // ServiceRequest.priority
	SLAWorkingDays int    `json:"slaWorkingDays"`
}

// RuleText is a rule's id (a triage-rule code) and its display text.
type RuleText struct {
	ID      string `json:"id"`
	Display string `json:"display"`
}

// Checklist is the weighted 7-point checklist.
type Checklist struct {
	RuleText
	Threshold int       `json:"threshold"`
	Pathway   string    `json:"pathway"`
	Features  []Feature `json:"features"`
}

// Feature is one checklist item (a seven-point-checklist code).
type Feature struct {
	Code    string `json:"code"`
	Display string `json:"display"`
	Points  int    `json:"points"`
}

// Rule sends the referral to a pathway when its condition holds.
type Rule struct {
	RuleText
	Pathway  string    `json:"pathway"`
	Strength string    `json:"strength"` // refer or consider
	When     Condition `json:"when"`
}

// Condition holds when every field it sets holds. Codes are SNOMED CT.
type Condition struct {
	CodesAny           []string    `json:"codesAny,omitempty"`    // a suspected diagnosis or finding
	BodySiteAny        []string    `json:"bodySiteAny,omitempty"` // a body site
	TextAny            []string    `json:"textAny,omitempty"`     // case-insensitive substring of the description
	SizeAtLeastMm      *float64    `json:"sizeAtLeastMm,omitempty"`
	SizeOverMm         *float64    `json:"sizeOverMm,omitempty"`
	DermoscopyMelanoma *bool       `json:"dermoscopyMelanoma,omitempty"`
	AllOf              []Condition `json:"allOf,omitempty"`
	AnyOf              []Condition `json:"anyOf,omitempty"`
	Not                *Condition  `json:"not,omitempty"`
}

// PhotoRules are the photo completeness and quality rules.
type PhotoRules struct {
	Views []ViewRule `json:"views"`
	Size  struct {
		RuleText
		MinWidth  int    `json:"minWidth"`
		MinHeight int    `json:"minHeight"`
		Severity  string `json:"severity"`
	} `json:"size"`
	ContentType struct {
		RuleText
		Allowed  []string `json:"allowed"`
		Severity string   `json:"severity"`
	} `json:"contentType"`
}

// ViewRule asks for a photo of one view (a photo-view code), on the listed
// pathways (all when empty).
type ViewRule struct {
	RuleText
	View                        string   `json:"view"`
	Pathways                    []string `json:"pathways,omitempty"`
	Severity                    string   `json:"severity"`
	SeverityWithoutDermatoscope string   `json:"severityWithoutDermatoscope,omitempty"`
}

// SimpleRule is a rule with only a severity (consent).
type SimpleRule struct {
	RuleText
	Severity string `json:"severity"`
}

// Features of the 7-point checklist as the profile defines them; a rules
// file may weight them differently but not invent others.
var knownFeatures = map[string]bool{
	"change-in-size": true, "irregular-shape": true, "irregular-colour": true,
	"diameter-7mm": true, "inflammation": true, "oozing": true, "change-in-sensation": true,
}

var (
	schemaOnce sync.Once
	schema     *gojsonschema.Schema
	schemaErr  error
)

func compiledSchema() (*gojsonschema.Schema, error) {
	schemaOnce.Do(func() {
		schema, schemaErr = gojsonschema.NewSchema(gojsonschema.NewBytesLoader(rulesSchema))
	})
	return schema, schemaErr
}

// Load reads a rules file, checks it against rules.schema.json and then
// for meaning (feature codes, unique rule ids). Errors name the JSON path.
func Load(r io.Reader) (*Rules, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("triage rules: %w", err)
	}
	if !json.Valid(raw) {
		var v any
		return nil, fmt.Errorf("triage rules: not JSON: %v", json.Unmarshal(raw, &v))
	}
	s, err := compiledSchema()
	if err != nil {
		return nil, fmt.Errorf("triage rules: schema: %w", err)
	}
	res, err := s.Validate(gojsonschema.NewBytesLoader(raw))
	if err != nil {
		return nil, fmt.Errorf("triage rules: %w", err)
	}
	if !res.Valid() {
		msgs := make([]string, 0, len(res.Errors()))
		for _, e := range res.Errors() {
			msgs = append(msgs, describe(e))
		}
		sort.Strings(msgs)
		return nil, fmt.Errorf("triage rules: %s", strings.Join(msgs, "; "))
	}
	var rules Rules
	if err := json.Unmarshal(raw, &rules); err != nil {
		return nil, fmt.Errorf("triage rules: %w", err)
	}
	if err := rules.check(); err != nil {
		return nil, fmt.Errorf("triage rules: %w", err)
	}
	return &rules, nil
}

// describe turns a schema error into "$.a.b[0].c: what is wrong", naming
// the offending key itself for unknown properties.
func describe(e gojsonschema.ResultError) string {
	path := jsonPath(e.Field())
	if e.Type() == "additional_property_not_allowed" {
		if p, ok := e.Details()["property"].(string); ok {
			return fmt.Sprintf("%s.%s: unknown field", path, p)
		}
	}
	return fmt.Sprintf("%s: %s", path, e.Description())
}

// jsonPath converts gojsonschema's "rules.0.when" to "$.rules[0].when".
func jsonPath(field string) string {
	if field == "(root)" || field == "" {
		return "$"
	}
	var b strings.Builder
	b.WriteString("$")
	for _, part := range strings.Split(field, ".") {
		if _, err := strconv.Atoi(part); err == nil {
			b.WriteString("[" + part + "]")
		} else {
			b.WriteString("." + part)
		}
	}
	return b.String()
}

// check is what the schema cannot say.
func (r *Rules) check() error {
	var errs []error
	seen := map[string]string{}
	claim := func(id, path string) {
		if prev, ok := seen[id]; ok {
			errs = append(errs, fmt.Errorf("%s: rule id %q is already used at %s", path, id, prev))
			return
		}
		seen[id] = path
	}
	claim(r.Checklist.ID, "$.checklist.id")
	features := map[string]bool{}
	for i, f := range r.Checklist.Features {
		path := fmt.Sprintf("$.checklist.features[%d].code", i)
		if !knownFeatures[f.Code] {
			errs = append(errs, fmt.Errorf("%s: unknown checklist feature %q", path, f.Code))
		}
		if features[f.Code] {
			errs = append(errs, fmt.Errorf("%s: feature %q listed twice", path, f.Code))
		}
		features[f.Code] = true
	}
	for i, rule := range r.Rules {
		claim(rule.ID, fmt.Sprintf("$.rules[%d].id", i))
	}
	views := map[string]bool{}
	for i, v := range r.Photos.Views {
		claim(v.ID, fmt.Sprintf("$.photos.views[%d].id", i))
		if views[v.View] {
			errs = append(errs, fmt.Errorf("$.photos.views[%d].view: view %q listed twice", i, v.View))
		}
		views[v.View] = true
	}
	claim(r.Photos.Size.ID, "$.photos.size.id")
	claim(r.Photos.ContentType.ID, "$.photos.contentType.id")
	claim(r.Consent.ID, "$.consent.id")
	claim(r.Override.ID, "$.override.id")
	return errors.Join(errs...)
}

// Default is the committed rules file (the domain document's defaults).
func Default() *Rules {
	r, err := Load(bytes.NewReader(defaultRules))
	if err != nil {
		panic(err)
	}
	return r
}

// RuleCodes lists every rule id with its display, in file order: the codes
// the triage-rule CodeSystem must hold.
func (r *Rules) RuleCodes() []RuleText {
	out := []RuleText{r.Checklist.RuleText}
	for _, rule := range r.Rules {
		out = append(out, rule.RuleText)
	}
	for _, v := range r.Photos.Views {
		out = append(out, v.RuleText)
	}
	return append(out, r.Photos.Size.RuleText, r.Photos.ContentType.RuleText, r.Consent.RuleText, r.Override)
}
