// Package auth is Telederm's SMART on FHIR authorization server: discovery
// (/.well-known/smart-configuration), the EHR launch registry, the
// authorization endpoint with its sign-in and approval pages, the token
// endpoint (authorization_code with PKCE, rotating refresh tokens,
// client_credentials for backend services), introspection, revocation and
// the JWKS; and the Authenticator that turns a bearer token into an
// access.Grant on every FHIR request.
//
// It is the only package that imports jwx. Its state is kept in a State
// (package authstate): by default files under one directory (keys,
// clients, users, revoked tokens, refresh tokens) and memory for the
// short-lived rest (launches, codes, sign-in transactions, assertion
// ids); with a shared State (MongoDB) several server processes act as
// one authorization server.
package auth
