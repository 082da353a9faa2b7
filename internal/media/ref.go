package media

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

const refPrefix = "sha256:"

// refFor names data.
func refFor(data []byte) (ref, digest string) {
	sum := sha256.Sum256(data)
	digest = hex.EncodeToString(sum[:])
	return refPrefix + digest, digest
}

// Ref is the ref content is stored under: "sha256:" and its hex digest.
// Other blob stores (the MongoDB backend's) name content the same way.
func Ref(data []byte) string {
	ref, _ := refFor(data)
	return ref
}

// CheckRef reports a ref that is not well formed (ErrInvalidRef).
func CheckRef(ref string) error {
	_, err := parseRef(ref)
	return err
}

// parseRef returns the hex digest of a well-formed ref. Only lowercase hex is
// accepted so that each blob has exactly one ref and one file name.
func parseRef(ref string) (string, error) {
	digest, ok := strings.CutPrefix(ref, refPrefix)
	if !ok || len(digest) != 2*sha256.Size || strings.IndexFunc(digest, notLowerHex) >= 0 {
		return "", fmt.Errorf("%w (got %q)", ErrInvalidRef, truncate(ref, 80))
	}
	return digest, nil
}

func notLowerHex(r rune) bool {
	return (r < '0' || r > '9') && (r < 'a' || r > 'f')
}

// truncate keeps error messages short when a client sends a huge ref.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
