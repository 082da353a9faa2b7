package auth

import (
	"encoding/json"
	"net/http"
)

// smartCapabilities are the SMART App Launch 2 capabilities this server
// implements.
var smartCapabilities = []string{
	"launch-ehr", "launch-standalone", "authorize-post",
	"client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
	"context-passthrough-banner", "context-ehr-patient", "context-ehr-encounter", "context-standalone-patient",
	"permission-offline", "permission-online", "permission-patient", "permission-user",
	"permission-v1", "permission-v2", "sso-openid-connect",
}

var (
	grantTypes        = []string{"authorization_code", "refresh_token", "client_credentials"}
	tokenAuthMethods  = []string{authBasic, authPost, authPKJWT}
	assertionAlgNames = []string{"RS384", "ES384"}
	scopesSupported   = []string{
		scopeOpenID, scopeFHIRUser, scopeProfile, scopeLaunch, scopeLaunchPatient, scopeLaunchEnc, scopeOffline, scopeOnline,
		"patient/*.cruds", "patient/*.rs", "user/*.cruds", "user/*.rs", "system/*.cruds", "system/*.rs",
		"patient/*.read", "patient/*.write", "user/*.read", "user/*.write", "system/*.read", "system/*.write",
	}
)

// smartConfig is /.well-known/smart-configuration (SMART App Launch 2,
// Conformance).
type smartConfig struct {
	Issuer                 string   `json:"issuer"`
	JWKSURI                string   `json:"jwks_uri"`
	AuthorizationEndpoint  string   `json:"authorization_endpoint"`
	GrantTypesSupported    []string `json:"grant_types_supported"`
	TokenEndpoint          string   `json:"token_endpoint"`
	TokenAuthMethods       []string `json:"token_endpoint_auth_methods_supported"`
	TokenAuthSigningAlgs   []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	ScopesSupported        []string `json:"scopes_supported"`
	ResponseTypesSupported []string `json:"response_types_supported"`
	ManagementEndpoint     string   `json:"management_endpoint"`
	IntrospectionEndpoint  string   `json:"introspection_endpoint"`
	RevocationEndpoint     string   `json:"revocation_endpoint"`
	Capabilities           []string `json:"capabilities"`
	CodeChallengeMethods   []string `json:"code_challenge_methods_supported"`
}

// openidConfig is /.well-known/openid-configuration (OpenID Connect
// Discovery), for the id_tokens this server issues.
type openidConfig struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	ResponseTypes         []string `json:"response_types_supported"`
	SubjectTypes          []string `json:"subject_types_supported"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported       []string `json:"scopes_supported"`
	ClaimsSupported       []string `json:"claims_supported"`
	GrantTypesSupported   []string `json:"grant_types_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	TokenAuthSigningAlgs  []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
}

func (s *Server) discoveryDocuments() (smart, openid []byte, err error) {
	smart, err = json.Marshal(smartConfig{
		Issuer: s.base, JWKSURI: s.url(pathJWKS), AuthorizationEndpoint: s.url(pathAuthorize),
		GrantTypesSupported: grantTypes, TokenEndpoint: s.url(pathToken),
		TokenAuthMethods: tokenAuthMethods, TokenAuthSigningAlgs: assertionAlgNames,
		ScopesSupported: scopesSupported, ResponseTypesSupported: []string{"code"},
		ManagementEndpoint: s.url(pathManage), IntrospectionEndpoint: s.url(pathIntrospect),
		RevocationEndpoint: s.url(pathRevoke), Capabilities: smartCapabilities,
		CodeChallengeMethods: []string{"S256"},
	})
	if err != nil {
		return nil, nil, err
	}
	openid, err = json.Marshal(openidConfig{
		Issuer: s.base, AuthorizationEndpoint: s.url(pathAuthorize), TokenEndpoint: s.url(pathToken),
		JWKSURI: s.url(pathJWKS), ResponseTypes: []string{"code"}, SubjectTypes: []string{"public"},
		IDTokenSigningAlgs: []string{string(signingAlg)}, ScopesSupported: []string{scopeOpenID, scopeFHIRUser, scopeProfile},
		ClaimsSupported:     []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser"},
		GrantTypesSupported: grantTypes, TokenAuthMethods: tokenAuthMethods, TokenAuthSigningAlgs: assertionAlgNames,
		CodeChallengeMethods: []string{"S256"},
	})
	return smart, openid, err
}

func (s *Server) smartConfiguration(w http.ResponseWriter, r *http.Request) {
	writeDiscovery(w, s.discovery)
}

func (s *Server) openidConfiguration(w http.ResponseWriter, r *http.Request) {
	writeDiscovery(w, s.openid)
}

// jwks serves the public signing keys, retired ones included until every
// token they signed has expired.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	ring := s.keys.Load()
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(ring.jwks)
}

// writeDiscovery answers JSON whatever the Accept header says (SMART:
// servers SHALL respond with application/json), to any origin.
func writeDiscovery(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(doc)
}
