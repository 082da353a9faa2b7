package access

import (
	"context"
	"time"
)

// AuditType is the resource type only an explicit scope reaches: a "*"
// scope does not grant the audit trail, which records everyone's access.
const AuditType = "AuditEvent"

// Grant is what a verified access token allows, and on whose behalf.
type Grant struct {
	TokenID  string // jti, for the audit trail and revocation
	ClientID string
	// Subject is the user who approved the launch, or the client itself
	// for backend services.
	Subject  string
	FHIRUser string // e.g. "Practitioner/123", when the token has one
	// Patient is the id of the patient in context: patient/ scopes reach
	// only that patient's compartment. Empty when there is none.
	Patient   string
	Encounter string
	Scopes    Scopes
	Expires   time.Time
}

// Applicable returns the resource scopes that allow op on resources of
// type typ. Empty means the request is outside every scope (403).
func (g *Grant) Applicable(typ string, op Op) []Scope {
	var out []Scope
	for _, s := range g.Scopes.Resource {
		if !s.Allows(op) {
			continue
		}
		if s.Type == typ || (s.Type == "*" && typ != AuditType) {
			out = append(out, s)
		}
	}
	return out
}

type grantKey struct{}

// NewContext returns ctx carrying the caller's grant.
func NewContext(ctx context.Context, g *Grant) context.Context {
	return context.WithValue(ctx, grantKey{}, g)
}

// FromContext returns the caller's grant, or nil when authorization is off
// (a sandbox): nil allows everything.
func FromContext(ctx context.Context) *Grant {
	g, _ := ctx.Value(grantKey{}).(*Grant)
	return g
}
