package auth

import (
	"net/http"
	"time"
)

// tokenResponse is the token endpoint's success body (RFC 6749 5.1 and
// SMART's launch context parameters).
type tokenResponse struct {
	AccessToken       string            `json:"access_token"`
	TokenType         string            `json:"token_type"`
	ExpiresIn         int64             `json:"expires_in"`
	Scope             string            `json:"scope"`
	RefreshToken      string            `json:"refresh_token,omitempty"`
	IDToken           string            `json:"id_token,omitempty"`
	Patient           string            `json:"patient,omitempty"`
	Encounter         string            `json:"encounter,omitempty"`
	FHIRContext       []fhirContextItem `json:"fhirContext,omitempty"`
	NeedPatientBanner *bool             `json:"need_patient_banner,omitempty"`
}

// grantResult is what a grant type hands back to the token endpoint.
type grantResult struct {
	resp     *tokenResponse
	clientID string
	tc       *tokenContext
}

// token is POST /auth/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	res, e := s.tokenGrant(w, r)
	if e != nil {
		s.recordError(r, actToken, res.clientID, e)
		writeOAuthError(w, e)
		return
	}
	s.record(r, decision{action: actToken, status: http.StatusOK, clientID: res.clientID, tc: res.tc})
	writeJSON(w, http.StatusOK, res.resp)
}

func (s *Server) tokenGrant(w http.ResponseWriter, r *http.Request) (grantResult, *oauthError) {
	form, e := readForm(w, r)
	if e != nil {
		return grantResult{}, e
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return s.codeGrant(r, form)
	case "refresh_token":
		return s.refreshGrant(r, form)
	case "client_credentials":
		return s.clientCredentials(r, form)
	case "":
		return grantResult{}, errInvalidRequest("grant_type is required")
	default:
		return grantResult{}, &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			desc: "grant_type " + gt + " is not supported: use authorization_code, refresh_token or client_credentials"}
	}
}

// bearerResponse is the common part of every token response.
func bearerResponse(t issuedToken, scope string, now time.Time) *tokenResponse {
	return &tokenResponse{AccessToken: t.token, TokenType: "Bearer", ExpiresIn: int64(t.expires.Sub(now).Seconds()), Scope: scope}
}
