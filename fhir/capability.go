package fhir

import (
	"encoding/json"
	"time"
)

// Capabilities is what a server says it supports; CapabilityStatement
// renders it. The REST layer fills it from its own tables so the statement
// cannot claim what the code does not do.
type Capabilities struct {
	BaseURL         string
	SoftwareName    string
	SoftwareVersion string
	Published       time.Time
	// Resources lists each supported type with its interactions
	// (read, vread, update, patch, delete, history-instance, history-type,
	// create, search-type).
	Resources []ResourceCapability
	// SystemInteractions: transaction, batch, search-system, history-system.
	SystemInteractions []string
	Formats            []string // e.g. "json", "application/fhir+json"
	PatchFormats       []string // e.g. "application/json-patch+json"

	// SystemOperations are the operations invoked on the base URL ($meta).
	SystemOperations []OperationCapability

	// Security, when set, advertises SMART on FHIR in rest.security.
	Security *SecurityCapability
}

// SecurityCapability is the SMART on FHIR part of rest.security: the OAuth
// endpoints (the oauth-uris extension) and whether CORS is supported.
type SecurityCapability struct {
	CORS bool
	// Authorize, Token, Revoke, Introspect, Manage and Register are the
	// absolute endpoint URLs; empty ones are left out.
	Authorize, Token, Revoke, Introspect, Manage, Register string
}

// OAuthURIsExtension is the SMART extension listing the OAuth endpoints.
const OAuthURIsExtension = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

// ResourceCapability describes one resource type.
type ResourceCapability struct {
	Type              string
	Interactions      []string
	Versioning        string // no-version | versioned | versioned-update
	ReadHistory       bool
	UpdateCreate      bool
	ConditionalRead   string // not-supported | modified-since | not-match | full-support
	ConditionalUpdate bool
	ConditionalCreate bool
	ConditionalDelete string // not-supported | single | multiple
	SearchInclude     []string
	SearchRevInclude  []string
	SearchParams      []SearchParamCapability
	// Operations are the type and instance operations of the type
	// ($validate, $everything ...).
	Operations []OperationCapability
	// SupportedProfiles are profiles the server supports for the type.
	SupportedProfiles []string
	// Canonicals are extensions on the resource entry whose value is a
	// canonical (e.g. the subscriptions backport's topic canonicals).
	Canonicals []CanonicalExtension
}

// CanonicalExtension is an extension with a valueCanonical.
type CanonicalExtension struct {
	URL, Value string
}

// OperationCapability is one supported operation: its name without the "$"
// and the canonical URL of its OperationDefinition.
type OperationCapability struct {
	Name, Definition string
}

// SearchParamCapability is one supported search parameter of a type.
type SearchParamCapability struct {
	Name, Definition, Type, Documentation string
}

type capabilityStatement struct {
	ResourceType   string         `json:"resourceType"`
	Status         string         `json:"status"`
	Date           string         `json:"date"`
	Publisher      string         `json:"publisher,omitempty"`
	Kind           string         `json:"kind"`
	Software       *capSoftware   `json:"software,omitempty"`
	Implementation *capImpl       `json:"implementation,omitempty"`
	FhirVersion    string         `json:"fhirVersion"`
	Format         []string       `json:"format"`
	PatchFormat    []string       `json:"patchFormat,omitempty"`
	Rest           []capRestEntry `json:"rest"`
}

type capSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type capImpl struct {
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
}

type capRestEntry struct {
	Mode        string           `json:"mode"`
	Security    *capSecurity     `json:"security,omitempty"`
	Resource    []capResource    `json:"resource"`
	Interaction []capInteraction `json:"interaction,omitempty"`
	Operation   []capOperation   `json:"operation,omitempty"`
}

type capSecurity struct {
	Extension []capExtension `json:"extension,omitempty"`
	CORS      bool           `json:"cors"`
	Service   []capConcept   `json:"service,omitempty"`
}

type capExtension struct {
	URL       string         `json:"url"`
	ValueURI  string         `json:"valueUri,omitempty"`
	Extension []capExtension `json:"extension,omitempty"`
}

type capConcept struct {
	Coding []capCoding `json:"coding"`
	Text   string      `json:"text,omitempty"`
}

type capCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

func security(c *SecurityCapability) *capSecurity {
	if c == nil {
		return nil
	}
	uris := capExtension{URL: OAuthURIsExtension}
	for _, u := range []struct{ name, value string }{
		{"authorize", c.Authorize}, {"token", c.Token}, {"revoke", c.Revoke},
		{"introspect", c.Introspect}, {"manage", c.Manage}, {"register", c.Register},
	} {
		if u.value != "" {
			uris.Extension = append(uris.Extension, capExtension{URL: u.name, ValueURI: u.value})
		}
	}
	return &capSecurity{
		Extension: []capExtension{uris},
		CORS:      c.CORS,
		Service: []capConcept{{
			Coding: []capCoding{{System: "http://terminology.hl7.org/CodeSystem/restful-security-service", Code: "SMART-on-FHIR", Display: "SMART-on-FHIR"}},
			Text:   "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
		}},
	}
}

type capOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

type capInteraction struct {
	Code string `json:"code"`
}

type capResource struct {
	Extension         []capCanonical   `json:"extension,omitempty"`
	Type              string           `json:"type"`
	SupportedProfile  []string         `json:"supportedProfile,omitempty"`
	Interaction       []capInteraction `json:"interaction"`
	Versioning        string           `json:"versioning,omitempty"`
	ReadHistory       bool             `json:"readHistory"`
	UpdateCreate      bool             `json:"updateCreate"`
	ConditionalCreate bool             `json:"conditionalCreate"`
	ConditionalRead   string           `json:"conditionalRead,omitempty"`
	ConditionalUpdate bool             `json:"conditionalUpdate"`
	ConditionalDelete string           `json:"conditionalDelete,omitempty"`
	SearchInclude     []string         `json:"searchInclude,omitempty"`
	SearchRevInclude  []string         `json:"searchRevInclude,omitempty"`
	SearchParam       []capSearchParam `json:"searchParam,omitempty"`
	Operation         []capOperation   `json:"operation,omitempty"`
}

type capCanonical struct {
	URL   string `json:"url"`
	Value string `json:"valueCanonical"`
}

type capSearchParam struct {
	Name          string `json:"name"`
	Definition    string `json:"definition,omitempty"`
	Type          string `json:"type"`
	Documentation string `json:"documentation,omitempty"`
}

func operations(ops []OperationCapability) []capOperation {
	if len(ops) == 0 {
		return nil
	}
	out := make([]capOperation, len(ops))
	for i, o := range ops {
		out[i] = capOperation{Name: o.Name, Definition: o.Definition}
	}
	return out
}

func interactions(codes []string) []capInteraction {
	out := make([]capInteraction, len(codes))
	for i, c := range codes {
		out[i] = capInteraction{Code: c}
	}
	return out
}

// CapabilityStatement renders c as an R4 CapabilityStatement.
func CapabilityStatement(c Capabilities) []byte {
	cs := capabilityStatement{
		ResourceType: "CapabilityStatement",
		Status:       "active",
		Date:         c.Published.UTC().Format(time.RFC3339),
		Publisher:    "Telederm",
		Kind:         "instance",
		Software:     &capSoftware{Name: c.SoftwareName, Version: c.SoftwareVersion},
		Implementation: &capImpl{
			Description: "Telederm FHIR R4 server for teledermatology",
			URL:         c.BaseURL,
		},
		FhirVersion: "4.0.1",
		Format:      c.Formats,
		PatchFormat: c.PatchFormats,
	}
	rest := capRestEntry{Mode: "server", Security: security(c.Security), Interaction: interactions(c.SystemInteractions), Operation: operations(c.SystemOperations)}
	for _, r := range c.Resources {
		params := make([]capSearchParam, len(r.SearchParams))
		for i, p := range r.SearchParams {
			params[i] = capSearchParam{Name: p.Name, Definition: p.Definition, Type: p.Type, Documentation: p.Documentation}
		}
		var exts []capCanonical
		for _, e := range r.Canonicals {
			exts = append(exts, capCanonical{URL: e.URL, Value: e.Value})
		}
		rest.Resource = append(rest.Resource, capResource{
			Extension:         exts,
			SupportedProfile:  r.SupportedProfiles,
			SearchInclude:     r.SearchInclude,
			SearchRevInclude:  r.SearchRevInclude,
			SearchParam:       params,
			Type:              r.Type,
			Interaction:       interactions(r.Interactions),
			Versioning:        r.Versioning,
			ReadHistory:       r.ReadHistory,
			UpdateCreate:      r.UpdateCreate,
			ConditionalCreate: r.ConditionalCreate,
			ConditionalRead:   r.ConditionalRead,
			ConditionalUpdate: r.ConditionalUpdate,
			ConditionalDelete: r.ConditionalDelete,
			Operation:         operations(r.Operations),
		})
	}
	cs.Rest = []capRestEntry{rest}
	b, err := json.Marshal(cs)
	if err != nil {
		panic("fhir: marshal CapabilityStatement: " + err.Error())
	}
	return b
}
