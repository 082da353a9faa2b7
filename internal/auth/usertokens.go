package auth

import (
	"strings"
	"time"
)

// idClaims is the payload of an OpenID Connect id_token.
type idClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"` // the client
	Expires  int64  `json:"exp"`
	IssuedAt int64  `json:"iat"`
	AuthTime int64  `json:"auth_time,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	// FHIRUser is the absolute URL of the user's FHIR resource (SMART).
	FHIRUser string `json:"fhirUser,omitempty"`
}

// userTokens issues the tokens of a user-facing grant (authorization_code
// or refresh_token): the access token with accessScope, an id_token when
// openid and fhirUser (or profile) were granted, and a refresh token when
// offline_access or online_access was, in family (a new family when
// empty).
func (s *Server) userTokens(tc tokenContext, accessScope string, authTime time.Time, family string) (*tokenResponse, issuedToken, string, error) {
	now := s.now()
	atc := tc
	atc.Scope = accessScope
	at, err := s.issueAccessToken(atc, s.cfg.AccessTokenTTL)
	if err != nil {
		return nil, issuedToken{}, "", err
	}
	resp := bearerResponse(at, accessScope, now)
	resp.Patient, resp.Encounter, resp.FHIRContext = tc.Patient, tc.Encounter, tc.FHIRContext
	banner := tc.NeedBanner
	resp.NeedPatientBanner = &banner

	toks := strings.Fields(accessScope)
	has := func(t string) bool { return contains(toks, t) }
	if has(scopeOpenID) && (has(scopeFHIRUser) || has(scopeProfile)) && tc.FHIRUser != "" {
		ring, err := s.signingKeys()
		if err != nil {
			return nil, issuedToken{}, "", err
		}
		resp.IDToken, err = signJWT(ring, typIDToken, idClaims{
			Issuer: s.base, Subject: tc.Subject, Audience: tc.ClientID, IssuedAt: now.Unix(),
			Expires: now.Add(s.cfg.AccessTokenTTL).Unix(), AuthTime: authTime.Unix(), Nonce: tc.Nonce,
			FHIRUser: s.base + "/" + tc.FHIRUser,
		})
		if err != nil {
			return nil, issuedToken{}, "", err
		}
	}
	// The refresh token keeps the scope originally granted, even when
	// this access token was narrowed (RFC 6749 6).
	granted := strings.Fields(tc.Scope)
	offline, online := contains(granted, scopeOffline), contains(granted, scopeOnline)
	if offline || online {
		if family == "" {
			family = randomToken(12)
		}
		ttl := s.cfg.OnlineRefreshTTL
		if offline {
			ttl = s.cfg.OfflineRefreshTTL
		}
		resp.RefreshToken, err = s.refresh.issue(refreshRecord{
			Family: family, Context: tc, Offline: offline, AuthTime: authTime, Expires: now.Add(ttl),
			AccessJTI: at.jti, AccessExp: at.expires,
		})
		if err != nil {
			return nil, issuedToken{}, "", err
		}
	} else {
		family = ""
	}
	return resp, at, family, nil
}
