package rest

import (
	"slices"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
)

// searchable reports whether the server can search on p: it is indexed
// (has an expression) and its type has a store translation.
func searchable(p *search.Param) bool {
	return p.Expression != "" && p.Type != search.Special
}

// Version is the server software version reported in the CapabilityStatement.
var Version = "0.1.0-dev"

// The interactions this package implements. The CapabilityStatement is built
// from these lists so it says exactly what the code does; add an
// interaction here in the same change that implements it.
var (
	typeInteractions   = []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"}
	systemInteractions = []string{"transaction", "batch", "history-system", "search-system"}
)

// The operations this package implements, with their OperationDefinitions;
// like the interactions, listed here in the same change that implements one.
var (
	typeOperations = []fhir.OperationCapability{
		{Name: "validate", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-validate"},
		{Name: "meta", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-meta"},
		{Name: "meta-add", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-meta-add"},
		{Name: "meta-delete", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-meta-delete"},
	}
	patientOperations = append(slices.Clip(typeOperations),
		fhir.OperationCapability{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"})
	systemOperations = []fhir.OperationCapability{
		{Name: "meta", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-meta"},
	}
)

// Capabilities describes what the Service supports, for the
// CapabilityStatement.
func (s *Service) Capabilities(published time.Time) fhir.Capabilities {
	c := fhir.Capabilities{
		BaseURL:            s.cfg.BaseURL,
		SoftwareName:       "Telederm",
		SoftwareVersion:    Version,
		Published:          published,
		SystemInteractions: systemInteractions,
		SystemOperations:   systemOperations,
		Formats:            []string{"json", "application/fhir+json", "application/json"},
		PatchFormats:       []string{"application/json-patch+json", "application/fhir+json"},
	}
	for _, t := range fhir.ResourceTypes() {
		rc := fhir.ResourceCapability{
			Type:              t,
			Interactions:      typeInteractions,
			Versioning:        "versioned",
			ReadHistory:       true,
			UpdateCreate:      true,
			ConditionalRead:   "full-support",
			ConditionalCreate: true,
			ConditionalUpdate: true,
			ConditionalDelete: "multiple",
			SearchInclude:     []string{"*"},
			SearchRevInclude:  []string{"*"},
			Operations:        typeOperations,
		}
		if t == "Patient" {
			rc.Operations = patientOperations
		}
		if extra := s.operationCapabilities(t); len(extra) > 0 {
			rc.Operations = append(slices.Clip(rc.Operations), extra...)
		}
		for _, p := range s.registry.ForType(t) {
			if !searchable(p) {
				continue
			}
			rc.SearchParams = append(rc.SearchParams, fhir.SearchParamCapability{
				Name: p.Code, Definition: p.URL, Type: string(p.Type), Documentation: p.Description,
			})
			if p.Type == search.Reference {
				rc.SearchInclude = append(rc.SearchInclude, t+":"+p.Code)
			}
		}
		c.Resources = append(c.Resources, rc)
	}
	if s.cfg.Advertise != nil {
		s.cfg.Advertise(&c)
	}
	return c
}
