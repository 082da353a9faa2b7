// Package access is the caller's permission model, shared by the
// authorization server that grants it (internal/auth) and the layers that
// enforce it (internal/rest, internal/api): SMART on FHIR scopes, v1
// (patient/Observation.read) and v2 (patient/Observation.rs, granular
// ?category=...), and the Grant an access token carries.
//
// It has no I/O and imports no JWT library: a Grant is already verified
// when it reaches a context.
package access
