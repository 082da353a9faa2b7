package published

import (
	"context"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
)

// readOnly refuses client writes to the published resources of one type;
// other resources of the type (a client's own ValueSets, say) pass.
type readOnly struct{ ids map[string]bool }

func (r readOnly) CheckWrite(_ context.Context, c store.Change) *fhir.Outcome {
	if !r.ids[c.ID] {
		return nil
	}
	return fhir.NewOutcome(fhir.SeverityError, fhir.CodeForbidden,
		c.Type+"/"+c.ID+" is published by the server; read-only", c.Type+".id")
}

// CheckDelete refuses the deletion of a published resource.
func (r readOnly) CheckDelete(_ context.Context, typ, id string) *fhir.Outcome {
	if !r.ids[id] {
		return nil
	}
	return fhir.NewOutcome(fhir.SeverityError, fhir.CodeForbidden,
		typ+"/"+id+" is published by the server; it cannot be deleted", typ+".id")
}

// WriteCheckers returns, for each type the server publishes
// (StructureDefinition, ValueSet, CodeSystem, SearchParameter), a
// rest.WriteChecker (and rest.DeleteChecker) that refuses client writes
// and deletions of the published ids.
func WriteCheckers() map[string]rest.WriteChecker {
	byType := map[string]map[string]bool{}
	for _, r := range all() {
		if byType[r.Type] == nil {
			byType[r.Type] = map[string]bool{}
		}
		byType[r.Type][r.ID] = true
	}
	out := make(map[string]rest.WriteChecker, len(byType))
	for typ, ids := range byType {
		out[typ] = readOnly{ids: ids}
	}
	return out
}
