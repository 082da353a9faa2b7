package rest

import (
	"time"

	"github.com/telederm/telederm/fhir"
)

// Version is the server software version reported in the CapabilityStatement.
var Version = "0.1.0-dev"

// The interactions this package implements. The CapabilityStatement is built
// from these lists so it says exactly what the code does; add an
// interaction here in the same change that implements it.
var (
	typeInteractions = []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create"}
	// search-type, transaction and batch arrive with the search and bundle work.
	systemInteractions = []string{"history-system"}
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
		Formats:            []string{"json", "application/fhir+json", "application/json"},
		PatchFormats:       []string{"application/json-patch+json"},
	}
	for _, t := range fhir.ResourceTypes() {
		c.Resources = append(c.Resources, fhir.ResourceCapability{
			Type:              t,
			Interactions:      typeInteractions,
			Versioning:        "versioned",
			ReadHistory:       true,
			UpdateCreate:      true,
			ConditionalRead:   "full-support",
			ConditionalDelete: "not-supported",
		})
	}
	return c
}
