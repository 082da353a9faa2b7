package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// clientKey finds the public key an asymmetric client signed with: in its
// JWKS by value, or in the JWKS at its URL (fetched and cached; an unknown
// kid refetches, at most once a minute).
func (r *clientRegistry) clientKey(ctx context.Context, c *registeredClient, kid string) (jwk.Key, error) {
	if c.keys != nil {
		if k, ok := c.keys.LookupKeyID(kid); ok {
			return k, nil
		}
		return nil, fmt.Errorf("kid %q is not in the client's registered JWKS", kid)
	}
	if c.JWKSURL == "" {
		return nil, errors.New("the client has no registered keys")
	}
	set, err := r.jwksAt(ctx, c.JWKSURL, "")
	if err == nil {
		if k, ok := set.LookupKeyID(kid); ok {
			return k, nil
		}
	}
	set, err = r.jwksAt(ctx, c.JWKSURL, kid)
	if err != nil {
		return nil, err
	}
	if k, ok := set.LookupKeyID(kid); ok {
		return k, nil
	}
	return nil, fmt.Errorf("kid %q is not in the client's JWKS at its registered URL", kid)
}

// jwksAt returns the cached JWKS of url, fetching it when the copy is
// older than jwksTTL, or (missingKid set) older than jwksRefetch.
func (r *clientRegistry) jwksAt(ctx context.Context, url, missingKid string) (jwk.Set, error) {
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	now := r.now()
	f := r.fetched[url]
	fresh := f != nil && now.Sub(f.fetched) < jwksTTL
	if fresh && (missingKid == "" || now.Sub(f.fetched) < jwksRefetch) {
		return f.set, f.err
	}
	set, err := r.fetchJWKS(ctx, url)
	if err != nil && f != nil && f.set != nil && fresh {
		return f.set, nil // keep serving a good copy through a failed refetch
	}
	r.fetched[url] = &fetchedJWKS{set: set, fetched: now, err: err}
	return set, err
}

func (r *clientRegistry) fetchJWKS(ctx context.Context, url string) (jwk.Set, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the client's JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the client's JWKS: HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	set, err := parsePublicJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("the client's JWKS: %w", err)
	}
	return set, nil
}

// parsePublicJWKS parses a client's JWKS and refuses private key
// material, keys without a kid, and key types assertions cannot use.
func parsePublicJWKS(b []byte) (jwk.Set, error) {
	set, err := jwk.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	if set.Len() == 0 {
		return nil, errors.New("the JWKS has no keys")
	}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		if k.KeyID() == "" {
			return nil, fmt.Errorf("key %d has no kid", i)
		}
		if priv, err := jwk.IsPrivateKey(k); err == nil && priv {
			return nil, fmt.Errorf("key %s is a private key: register the public JWKS only", k.KeyID())
		}
		switch k.(type) {
		case jwk.RSAPublicKey, jwk.ECDSAPublicKey:
		default:
			return nil, fmt.Errorf("key %s: only RSA and EC keys can sign client assertions", k.KeyID())
		}
	}
	return set, nil
}
