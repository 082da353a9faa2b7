package suite

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// privateJWK renders a generated key as the JWK the suite reads.
func privateJWK(t *testing.T, key crypto.Signer, kid string) []byte {
	t.Helper()
	var m map[string]string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		m = map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()),
			"d": b64(k.D.Bytes()), "p": b64(k.Primes[0].Bytes()), "q": b64(k.Primes[1].Bytes())}
	case *ecdsa.PrivateKey:
		raw, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		m = map[string]string{"kty": "EC", "crv": "P-384", "d": b64(raw), "x": b64(pub[1:49]), "y": b64(pub[49:])}
	}
	m["kid"] = kid
	b, _ := json.Marshal(map[string]any{"keys": []any{m}})
	return b
}

// verify checks an assertion's signature against pub and returns its claims.
func verify(t *testing.T, token string, pub crypto.PublicKey) (map[string]string, map[string]any, bool) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d parts", len(parts))
	}
	var header map[string]string
	var claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil {
		t.Fatalf("assertion header or claims are not JSON")
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return header, claims, rsa.VerifyPKCS1v15(pub, crypto.SHA384, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		if len(sig) != 96 {
			return header, claims, false
		}
		r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
		return header, claims, ecdsa.Verify(pub, digest[:], r, s)
	}
	return header, claims, false
}

func TestClientKeySignsAssertions(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS384", rsaKey}, {"ES384", ecKey}} {
		t.Run(tc.alg, func(t *testing.T) {
			ck, err := LoadClientKey("hospital-a", privateJWK(t, tc.key, "k1"))
			if err != nil {
				t.Fatal(err)
			}
			if ck.Alg != tc.alg || ck.KeyID != "k1" {
				t.Fatalf("alg %s kid %s", ck.Alg, ck.KeyID)
			}
			aud := "https://fhir.example/auth/token"
			a1, err := ck.Assertion(aud)
			if err != nil {
				t.Fatal(err)
			}
			header, claims, ok := verify(t, a1, tc.key.Public())
			if !ok {
				t.Fatal("the assertion's signature does not verify with the client's public key")
			}
			if header["alg"] != tc.alg || header["kid"] != "k1" || header["typ"] != "JWT" {
				t.Errorf("header %v", header)
			}
			exp := time.Unix(int64(claims["exp"].(float64)), 0)
			if claims["iss"] != "hospital-a" || claims["sub"] != "hospital-a" || claims["aud"] != aud ||
				time.Until(exp) > 5*time.Minute || time.Until(exp) < time.Minute {
				t.Errorf("claims %v", claims)
			}
			a2, _ := ck.Assertion(aud)
			_, claims2, _ := verify(t, a2, tc.key.Public())
			if claims2["jti"] == claims["jti"] {
				t.Error("two assertions share a jti")
			}
			forged, err := ck.ForgedAssertion(aud)
			if err != nil {
				t.Fatal(err)
			}
			if h, _, ok := verify(t, forged, tc.key.Public()); ok || h["kid"] != "k1" {
				t.Errorf("forged assertion verifies (%v) or lost the kid (%v)", ok, h)
			}
		})
	}
}

func TestLoadClientKeyRefuses(t *testing.T) {
	for name, data := range map[string]string{
		"not json":    "-----BEGIN PRIVATE KEY-----",
		"public only": `{"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]}`,
		"wrong curve": `{"kty":"EC","crv":"P-256","d":"AQ","x":"AA","y":"AA"}`,
		"oct key":     `{"kty":"oct","k":"c2VjcmV0","d":"x"}`,
		"broken rsa":  `{"kty":"RSA","n":"AQ","e":"AQAB","d":"AQ"}`,
	} {
		if _, err := LoadClientKey("c", []byte(data)); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// The SMART App Launch sample keys load and sign: they are what
// integrators try first.
func TestClientKeySMARTSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "spec", "smart")
	for _, alg := range []string{"RS384", "ES384"} {
		data, err := os.ReadFile(filepath.Join(dir, alg+".private.json"))
		if os.IsNotExist(err) {
			t.Skipf("the SMART sample keys are not here (%s): ../shared is absent", dir)
		}
		if err != nil {
			t.Fatal(err)
		}
		ck, err := LoadClientKey("sample", data)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if ck.Alg != alg {
			t.Errorf("%s sample read as %s", alg, ck.Alg)
		}
		if _, err := ck.Assertion("https://x/token"); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
}
