package audit

import (
	"github.com/telederm/telederm/fhir/search"
)

// auditType is the resource type the trail serves.
const auditType = "AuditEvent"

// searchable are the R4 AuditEvent search parameters the trail answers.
// The others (agent-name, agent-role, entity-name, entity-role,
// entity-type, policy, site, source) describe elements the trail does not
// vary or does not keep, and are reported as unknown.
var searchable = []string{
	"_id", "_lastUpdated", "date", "agent", "altid", "patient", "entity",
	"outcome", "action", "subtype", "type", "address",
}

// whoParam is "who", another name for agent (the name later FHIR versions
// give it), for clients that ask for the agent as who.
const whoParam = "who"

// params is the registry the search parser reads: only the parameters the
// trail answers, so that every other one is unknown (ignored, or an error
// under strict handling), chains and reverse chains included.
type params map[string]*search.Param

func newParams() params {
	out := params{}
	reg := search.Default()
	for _, code := range searchable {
		if p, ok := reg.Lookup(auditType, code); ok {
			out[code] = p
		}
	}
	if agent, ok := out["agent"]; ok {
		who := *agent
		who.Code = whoParam
		out[whoParam] = &who
	}
	return out
}

func (p params) Lookup(resourceType, code string) (*search.Param, bool) {
	if resourceType != auditType {
		return nil, false
	}
	prm, ok := p[code]
	return prm, ok
}

func (p params) ByURL(string) (*search.Param, bool) { return nil, false }
