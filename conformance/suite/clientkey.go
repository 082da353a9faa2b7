package suite

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// ClientKey signs SMART backend-services client assertions (RFC 7523
// private_key_jwt) for one client, with the standard library only: the
// suite must be able to test any server, so it carries no JWT library's
// assumptions. RS384 for RSA keys and ES384 for P-384 keys, the two
// algorithms SMART requires servers to accept.
type ClientKey struct {
	ClientID string
	Alg      string // RS384 or ES384
	KeyID    string
	signer   crypto.Signer
}

// assertionLifetime is how far ahead an assertion expires: SMART allows at
// most five minutes.
const assertionLifetime = 4 * time.Minute

type jwk struct {
	Kty, Kid, Alg, Crv string
	N, E, D, P, Q      string
	X, Y               string
}

// LoadClientKey reads a private JWK, or a JWKS whose first private key is
// used (the layout of the SMART sample keys).
func LoadClientKey(clientID string, data []byte) (*ClientKey, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	var keys []jwk
	if err := json.Unmarshal(data, &set); err == nil && len(set.Keys) > 0 {
		keys = set.Keys
	} else {
		var k jwk
		if err := json.Unmarshal(data, &k); err != nil {
			return nil, fmt.Errorf("not a JWK or JWKS: %w", err)
		}
		keys = []jwk{k}
	}
	for _, k := range keys {
		if k.D == "" {
			continue // a public key
		}
		ck, err := k.clientKey()
		if err != nil {
			return nil, err
		}
		ck.ClientID = clientID
		return ck, nil
	}
	return nil, errors.New("no private key (a JWK with \"d\") in the key file")
}

func (k jwk) clientKey() (*ClientKey, error) {
	switch k.Kty {
	case "RSA":
		n, e, d, p, q := b64Int(k.N), b64Int(k.E), b64Int(k.D), b64Int(k.P), b64Int(k.Q)
		if n == nil || e == nil || d == nil || p == nil || q == nil {
			return nil, errors.New("RSA JWK: n, e, d, p and q are required")
		}
		key := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())}, D: d, Primes: []*big.Int{p, q}}
		if err := key.Validate(); err != nil {
			return nil, fmt.Errorf("RSA JWK: %w", err)
		}
		key.Precompute()
		return &ClientKey{Alg: "RS384", KeyID: k.Kid, signer: key}, nil
	case "EC":
		if k.Crv != "P-384" {
			return nil, fmt.Errorf("EC JWK on curve %q: ES384 needs P-384", k.Crv)
		}
		d := b64Int(k.D)
		if d == nil {
			return nil, errors.New("EC JWK: d is required")
		}
		key, err := ecdsa.ParseRawPrivateKey(elliptic.P384(), d.FillBytes(make([]byte, 48)))
		if err != nil {
			return nil, fmt.Errorf("EC JWK: %w", err)
		}
		return &ClientKey{Alg: "ES384", KeyID: k.Kid, signer: key}, nil
	}
	return nil, fmt.Errorf("JWK kty %q: want RSA or EC", k.Kty)
}

func b64Int(s string) *big.Int {
	if s == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return new(big.Int).SetBytes(b)
}

// Assertion is a fresh client assertion for the token endpoint aud: a new
// jti every time, expiring within SMART's five minutes.
func (k *ClientKey) Assertion(aud string) (string, error) {
	return k.sign(aud, k.signer)
}

// ForgedAssertion is an assertion with the client's id and key id but
// signed by a key the server has never seen: a server must refuse it.
func (k *ClientKey) ForgedAssertion(aud string) (string, error) {
	var other crypto.Signer
	var err error
	if k.Alg == "RS384" {
		other, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		other, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	if err != nil {
		return "", err
	}
	return k.sign(aud, other)
}

func (k *ClientKey) sign(aud string, key crypto.Signer) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	now := time.Now()
	header, _ := json.Marshal(map[string]string{"alg": k.Alg, "typ": "JWT", "kid": k.KeyID})
	claims, _ := json.Marshal(map[string]any{
		"iss": k.ClientID, "sub": k.ClientID, "aud": aud,
		"jti": hex.EncodeToString(jti), "iat": now.Unix(), "exp": now.Add(assertionLifetime).Unix(),
	})
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha512.Sum384([]byte(input))
	var sig []byte
	switch key := key.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA384, digest[:]); err != nil {
			return "", err
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return "", err
		}
		// JWS wants the fixed-width r||s, not ASN.1.
		sig = append(r.FillBytes(make([]byte, 48)), s.FillBytes(make([]byte, 48))...)
	default:
		return "", fmt.Errorf("unsupported key type %T", key)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
