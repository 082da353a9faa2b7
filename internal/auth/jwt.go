package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// JWT header types of the tokens this server signs (RFC 9068 for access
// tokens), so that one kind of token can never pass for another.
const (
	typAccessToken = "at+jwt"
	typIDToken     = "JWT"
)

// signJWT signs claims with the current key of ring.
func signJWT(ring *keyring, typ string, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, typ); err != nil {
		return "", err
	}
	if err := h.Set(jws.KeyIDKey, ring.currentID); err != nil {
		return "", err
	}
	b, err := jws.Sign(payload, jws.WithKey(signingAlg, ring.current, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return string(b), nil
}

// jwsParts is a compact JWS read but not yet verified.
type jwsParts struct {
	alg     jwa.SignatureAlgorithm
	kid     string
	typ     string
	payload []byte
}

// parseJWS reads a compact JWS without verifying it: the caller looks at
// the header to find the key, then calls verifyJWS.
func parseJWS(token string) (jwsParts, error) {
	if strings.Count(token, ".") != 2 {
		return jwsParts{}, errors.New("not a compact JWT")
	}
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil {
		return jwsParts{}, errors.New("malformed JWT")
	}
	sigs := msg.Signatures()
	if len(sigs) != 1 {
		return jwsParts{}, errors.New("malformed JWT")
	}
	h := sigs[0].ProtectedHeaders()
	return jwsParts{alg: h.Algorithm(), kid: h.KeyID(), typ: h.Type(), payload: msg.Payload()}, nil
}

// verifyJWS checks token's signature with key (a raw public key or a
// jwk.Key) for alg.
func verifyJWS(token string, alg jwa.SignatureAlgorithm, key any) error {
	if k, ok := key.(jwk.Key); ok {
		var raw any
		if err := k.Raw(&raw); err != nil {
			return err
		}
		key = raw
	}
	if _, err := jws.Verify([]byte(token), jws.WithKey(alg, key)); err != nil {
		return errors.New("signature does not verify")
	}
	return nil
}

// audience is the aud claim: one string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = many
	return nil
}

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a audience) has(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}
