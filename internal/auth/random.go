package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// randomToken returns n random bytes, base64url without padding: codes,
// launch ids, refresh tokens, secrets, jtis.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how high-entropy secrets (client secrets, refresh tokens)
// are kept at rest: SHA-256 suffices for random values of 256 bits, which
// no dictionary reaches.
func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// sameHash compares a token with a stored hash in constant time.
func sameHash(tok, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashToken(tok)), []byte(hash)) == 1
}
