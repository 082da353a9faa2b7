package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// signingAlg signs every token this server issues. RS256 is the one
// algorithm every OpenID Connect client must accept for id_tokens.
const signingAlg = jwa.RS256

// rsaBits is the size of generated signing keys.
const rsaBits = 2048

// DefaultKeyRotation is how old the signing key may get before the server
// replaces it at start-up (or at the next token it issues).
const DefaultKeyRotation = 90 * 24 * time.Hour

// storedKey is one signing key in the keys document (keys.json).
type storedKey struct {
	KID     string          `json:"kid"`
	Created time.Time       `json:"created"`
	Retired *time.Time      `json:"retired,omitempty"` // no longer signs; kept to verify
	JWK     json.RawMessage `json:"jwk"`               // private RSA JWK
}

type keysDoc struct {
	Keys []storedKey `json:"keys"`
}

// keyring is an immutable snapshot of the signing keys: the current one
// signs, every one still listed verifies. The public keys are parsed once,
// so verifying a token touches no file.
type keyring struct {
	current   jwk.Key // private, with kid and alg set
	currentID string
	created   time.Time
	public    map[string]*rsa.PublicKey // kid -> key, current and retired
	jwks      []byte                    // the public JWKS document
	// pruneAt is when the next retired key may be dropped (zero: none).
	pruneAt time.Time
	version int64 // the keys document's, to notice changes
}

// loadKeys reads the keys under dir (keys.json), as loadKeysFrom does.
func loadKeys(dir string, now time.Time, rotateAfter, keep time.Duration) (*keyring, error) {
	ctx, cancel := stateCtx()
	defer cancel()
	return loadKeysFrom(ctx, newFileState(dir, func() time.Time { return now }), now, rotateAfter, keep)
}

// loadKeysFrom reads the keys document, creating the first key when there
// is none, rotating the current one when it is older than rotateAfter (0:
// never) and dropping retired keys whose tokens have all expired (retired
// longer than keep ago). The document is rewritten when anything changed;
// of several processes doing so at once one writes, and the others read
// what it wrote (and, finding it fresh, change nothing).
func loadKeysFrom(ctx context.Context, st State, now time.Time, rotateAfter, keep time.Duration) (*keyring, error) {
	doc, version, err := updateDoc(ctx, st, docKeys, func(doc *keysDoc) (bool, error) {
		changed := false
		if current(*doc) < 0 || rotateAfter > 0 && now.Sub(doc.Keys[current(*doc)].Created) > rotateAfter {
			if err := rotate(doc, now); err != nil {
				return false, err
			}
			changed = true
		}
		if prune(doc, now, keep) {
			changed = true
		}
		return changed, nil
	})
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	ring, err := parseKeyring(doc)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	for _, k := range doc.Keys {
		if k.Retired != nil {
			if at := k.Retired.Add(keep); ring.pruneAt.IsZero() || at.Before(ring.pruneAt) {
				ring.pruneAt = at
			}
		}
	}
	ring.version = version
	return ring, nil
}

// RotateKeys makes a new signing key current in dataDir and retires the
// old one, which stays published until every token it signed has expired
// (keep: the longest token lifetime, DefaultTokenLifetime for a server
// with default settings). A running server picks the new key up with the
// next token it issues.
func RotateKeys(dataDir string, now time.Time, keep time.Duration) (kid string, err error) {
	return FileAdmin(dataDir).RotateKeys(context.Background(), now, keep)
}

// RotateKeys makes a new signing key current (see the function
// RotateKeys). Servers on a shared state sign with it within about a
// second.
func (a Admin) RotateKeys(ctx context.Context, now time.Time, keep time.Duration) (kid string, err error) {
	doc, _, err := updateDoc(ctx, a.State, docKeys, func(doc *keysDoc) (bool, error) {
		if err := rotate(doc, now); err != nil {
			return false, err
		}
		prune(doc, now, keep)
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return doc.Keys[current(doc)].KID, nil
}

// KeyInfo describes one signing key, for telederm keys list.
type KeyInfo struct {
	KID              string
	Created, Retired time.Time // Retired is zero for the current key
}

// ListKeys lists the signing keys in dataDir, current one first.
func ListKeys(dataDir string) ([]KeyInfo, error) {
	return FileAdmin(dataDir).ListKeys(context.Background())
}

// ListKeys lists the signing keys, current one first.
func (a Admin) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	doc, _, err := loadDoc[keysDoc](ctx, a.State, docKeys)
	if err != nil {
		return nil, err
	}
	var out []KeyInfo
	for _, k := range doc.Keys {
		ki := KeyInfo{KID: k.KID, Created: k.Created}
		if k.Retired != nil {
			ki.Retired = *k.Retired
			out = append(out, ki)
		} else {
			out = append([]KeyInfo{ki}, out...)
		}
	}
	return out, nil
}

// current is the index of the key that signs, or -1.
func current(doc keysDoc) int {
	for i := len(doc.Keys) - 1; i >= 0; i-- {
		if doc.Keys[i].Retired == nil {
			return i
		}
	}
	return -1
}

// rotate retires every current key and adds a fresh one.
func rotate(doc *keysDoc, now time.Time) error {
	raw, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return fmt.Errorf("generate signing key: %w", err)
	}
	key, err := jwk.FromRaw(raw)
	if err != nil {
		return err
	}
	if err := jwk.AssignKeyID(key); err != nil {
		return err
	}
	b, err := json.Marshal(key)
	if err != nil {
		return err
	}
	for i := range doc.Keys {
		if doc.Keys[i].Retired == nil {
			t := now
			doc.Keys[i].Retired = &t
		}
	}
	doc.Keys = append(doc.Keys, storedKey{KID: key.KeyID(), Created: now, JWK: b})
	return nil
}

// prune drops retired keys that no unexpired token can name.
func prune(doc *keysDoc, now time.Time, keep time.Duration) bool {
	kept := doc.Keys[:0]
	for _, k := range doc.Keys {
		if k.Retired == nil || now.Sub(*k.Retired) <= keep {
			kept = append(kept, k)
		}
	}
	dropped := len(kept) < len(doc.Keys)
	doc.Keys = kept
	return dropped
}

func parseKeyring(doc keysDoc) (*keyring, error) {
	ring := &keyring{public: map[string]*rsa.PublicKey{}}
	set := jwk.NewSet()
	for _, k := range doc.Keys {
		key, err := jwk.ParseKey(k.JWK)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", k.KID, err)
		}
		var priv rsa.PrivateKey
		if err := key.Raw(&priv); err != nil {
			return nil, fmt.Errorf("key %s is not an RSA private key: %w", k.KID, err)
		}
		if err := key.Set(jwk.KeyIDKey, k.KID); err != nil {
			return nil, err
		}
		if err := key.Set(jwk.AlgorithmKey, signingAlg); err != nil {
			return nil, err
		}
		ring.public[k.KID] = &priv.PublicKey
		pub, err := jwk.PublicKeyOf(key)
		if err != nil {
			return nil, err
		}
		if err := pub.Set(jwk.KeyUsageKey, "sig"); err != nil {
			return nil, err
		}
		if err := set.AddKey(pub); err != nil {
			return nil, err
		}
		if k.Retired == nil {
			ring.current, ring.currentID, ring.created = key, k.KID, k.Created
		}
	}
	if ring.current == nil {
		return nil, errors.New("no current signing key")
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, err
	}
	ring.jwks = b
	return ring, nil
}
