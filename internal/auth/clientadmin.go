package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/access"
)

// ClientSpec is a client to register (telederm clients add).
type ClientSpec struct {
	ID           string
	Type         ClientType
	JWKS         []byte // an asymmetric client's public JWKS, by value
	JWKSURL      string // or where to fetch it
	RedirectURIs []string
	Scopes       []string // each a scope token; several may share one string, space-separated
	Launch       []string
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// AddClient registers a client in dataDir. For a confidential-symmetric
// client it returns the generated secret, which is stored only as a hash:
// the caller shows it once.
func AddClient(dataDir string, spec ClientSpec, now time.Time) (secret string, err error) {
	return FileAdmin(dataDir).AddClient(context.Background(), spec, now)
}

// AddClient registers a client (see the function AddClient).
func (a Admin) AddClient(ctx context.Context, spec ClientSpec, now time.Time) (secret string, err error) {
	c, err := spec.client(now)
	if err != nil {
		return "", err
	}
	if c.Type == ConfidentialSymmetric {
		secret = randomToken(32)
		c.SecretHash = hashToken(secret)
	}
	_, _, err = updateDoc(ctx, a.State, docClients, func(doc *clientsDoc) (bool, error) {
		for _, old := range doc.Clients {
			if old.ID == c.ID {
				return false, fmt.Errorf("client %s exists: remove it first to change it", c.ID)
			}
		}
		doc.Clients = append(doc.Clients, c)
		return true, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// ListClients lists the registered clients of dataDir.
func ListClients(dataDir string) ([]Client, error) {
	return FileAdmin(dataDir).ListClients(context.Background())
}

// ListClients lists the registered clients.
func (a Admin) ListClients(ctx context.Context) ([]Client, error) {
	doc, _, err := loadDoc[clientsDoc](ctx, a.State, docClients)
	return doc.Clients, err
}

// RemoveClient removes a registered client; tokens already issued to it
// stay valid until they expire (revoke them to end them sooner).
func RemoveClient(dataDir, id string) error {
	return FileAdmin(dataDir).RemoveClient(context.Background(), id)
}

// RemoveClient removes a registered client (see the function
// RemoveClient).
func (a Admin) RemoveClient(ctx context.Context, id string) error {
	_, _, err := updateDoc(ctx, a.State, docClients, func(doc *clientsDoc) (bool, error) {
		n := len(doc.Clients)
		doc.Clients = slices.DeleteFunc(doc.Clients, func(c Client) bool { return c.ID == id })
		if len(doc.Clients) == n {
			return false, fmt.Errorf("no client %s", id)
		}
		return true, nil
	})
	return err
}

// client validates a spec into a Client.
func (spec ClientSpec) client(now time.Time) (Client, error) {
	c := Client{ID: spec.ID, Type: spec.Type, JWKSURL: spec.JWKSURL, RedirectURIs: spec.RedirectURIs, Created: now.UTC()}
	if !clientIDPattern.MatchString(c.ID) {
		return c, errors.New("client id: 1 to 64 letters, digits and . _ -")
	}
	for _, s := range spec.Scopes {
		c.Scopes = append(c.Scopes, strings.Fields(s)...)
	}
	if len(c.Scopes) == 0 {
		return c, errors.New("give the scopes the client may be granted (--scope)")
	}
	for _, tok := range c.Scopes {
		if _, ok, err := access.ParseScope(tok); err != nil {
			return c, err
		} else if !ok && !slices.Contains(otherScopes, tok) {
			return c, fmt.Errorf("scope %q is neither a resource scope nor one of %s", tok, strings.Join(otherScopes, " "))
		}
	}
	for _, l := range spec.Launch {
		for _, t := range strings.Split(l, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if !slices.Contains(launchTypes, t) {
				return c, fmt.Errorf("launch type %q: want %s", t, strings.Join(launchTypes, ", "))
			}
			if !slices.Contains(c.Launch, t) {
				c.Launch = append(c.Launch, t)
			}
		}
	}
	if len(c.Launch) == 0 {
		return c, fmt.Errorf("give the launch types the client may use (--launch %s)", strings.Join(launchTypes, ","))
	}
	switch c.Type {
	case Public:
		if len(spec.JWKS) > 0 || spec.JWKSURL != "" {
			return c, errors.New("a public client has no keys")
		}
		if c.may(LaunchBackend) || c.may(LaunchLauncher) {
			return c, errors.New("backend and launcher clients must be confidential: they act without a user")
		}
	case ConfidentialSymmetric:
		if len(spec.JWKS) > 0 || spec.JWKSURL != "" {
			return c, errors.New("a confidential-symmetric client authenticates with a secret, not keys")
		}
	case ConfidentialAsymmetric:
		switch {
		case len(spec.JWKS) > 0 && spec.JWKSURL != "":
			return c, errors.New("give the JWKS by value or by URL, not both")
		case len(spec.JWKS) > 0:
			set, err := parsePublicJWKS(spec.JWKS)
			if err != nil {
				return c, err
			}
			if c.JWKS, err = json.Marshal(set); err != nil {
				return c, err
			}
		case spec.JWKSURL != "":
			if u, err := url.Parse(spec.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return c, fmt.Errorf("JWKS URL %q is not an absolute http(s) URL", spec.JWKSURL)
			}
		default:
			return c, errors.New("a confidential-asymmetric client needs its public JWKS (a file or a URL)")
		}
	default:
		return c, fmt.Errorf("client type %q: want public, confidential-symmetric or confidential-asymmetric", c.Type)
	}
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return c, fmt.Errorf("redirect URI %q must be an absolute URL without a fragment", r)
		}
	}
	if (c.may(LaunchEHR) || c.may(LaunchStandalone)) && len(c.RedirectURIs) == 0 {
		return c, errors.New("an app launched by users needs at least one redirect URI (--redirect-uri)")
	}
	return c, nil
}
