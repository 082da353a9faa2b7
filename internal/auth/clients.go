package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// ClientType is how a client authenticates (SMART client profiles).
type ClientType string

// The client types.
const (
	// Public clients (browser and mobile apps) hold no secret: they send
	// client_id alone and prove possession with PKCE.
	Public ClientType = "public"
	// ConfidentialSymmetric clients authenticate with a client secret
	// (client_secret_basic or client_secret_post).
	ConfidentialSymmetric ClientType = "confidential-symmetric"
	// ConfidentialAsymmetric clients authenticate with a JWT signed by
	// their private key (private_key_jwt), verified against their JWKS.
	ConfidentialAsymmetric ClientType = "confidential-asymmetric"
)

// Launch types a client may use.
const (
	LaunchEHR        = "ehr"        // be launched from a GP system (launch id)
	LaunchStandalone = "standalone" // launch on its own; the user signs in here
	LaunchBackend    = "backend"    // client_credentials (SMART Backend Services)
	// LaunchLauncher lets a confidential client register EHR launches at
	// /auth/launch, vouching for the user and the patient in context: the
	// GP record system's privilege, never an app's.
	LaunchLauncher = "launcher"
)

var launchTypes = []string{LaunchEHR, LaunchStandalone, LaunchBackend, LaunchLauncher}

// Client is one registered client, as kept in clients.json.
type Client struct {
	ID   string     `json:"id"`
	Type ClientType `json:"type"`
	// SecretHash is the SHA-256 of a symmetric client's secret; the
	// secret itself is shown once, when the client is added.
	SecretHash string `json:"secret_hash,omitempty"`
	// JWKS (by value) or JWKSURL (fetched and cached) hold an asymmetric
	// client's public keys.
	JWKS         json.RawMessage `json:"jwks,omitempty"`
	JWKSURL      string          `json:"jwks_url,omitempty"`
	RedirectURIs []string        `json:"redirect_uris,omitempty"`
	// Scopes are the scopes the client may be granted: resource scope
	// patterns (system/*.rs) and the other tokens it may ask for
	// (openid, fhirUser, launch, offline_access ...).
	Scopes  []string  `json:"scopes"`
	Launch  []string  `json:"launch"`
	Created time.Time `json:"created"`
}

// may reports whether the client is registered for a launch type.
func (c *Client) may(launch string) bool { return slices.Contains(c.Launch, launch) }

type clientsDoc struct {
	Clients []Client `json:"clients"`
}

// clientRegistry is the clients document, read again when its version
// changes so that `telederm clients add` takes effect on a running
// server: checked at every use with files, at most once per pollEvery on
// a shared state.
type clientRegistry struct {
	st     State
	shared bool
	http   *http.Client
	now    func() time.Time

	mu      sync.Mutex
	version int64
	checked time.Time // last check (server clock), for the throttled checks of CORS
	polled  time.Time // last check (monotonic), for the throttle of a shared state
	byID    map[string]*registeredClient
	origins map[string]bool

	fetchMu sync.Mutex
	fetched map[string]*fetchedJWKS // jwks_url -> keys
}

// registeredClient is a client with its JWKS parsed.
type registeredClient struct {
	Client
	keys jwk.Set // by value; nil when fetched by URL
}

type fetchedJWKS struct {
	set     jwk.Set
	fetched time.Time
	err     error
}

// jwksTTL is how long a JWKS fetched by URL is trusted; an unknown kid
// refetches it sooner, at most once per jwksRefetch.
const (
	jwksTTL     = time.Hour
	jwksRefetch = time.Minute
)

func openClientRegistry(st State, shared bool, hc *http.Client, now func() time.Time) (*clientRegistry, error) {
	r := &clientRegistry{st: st, shared: shared, http: hc, now: now, fetched: map[string]*fetchedJWKS{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reloadLocked(); err != nil {
		return nil, err
	}
	return r, nil
}

// reloadLocked reads the clients again when the document is not the
// version loaded. A document that fails to parse keeps the previous
// registry (and says so).
func (r *clientRegistry) reloadLocked() error {
	r.checked, r.polled = r.now(), time.Now()
	ctx, cancel := stateCtx()
	defer cancel()
	if r.byID != nil {
		v, err := r.st.DocVersion(ctx, docClients)
		if err != nil || v == r.version {
			return err
		}
	}
	doc, version, err := loadDoc[clientsDoc](ctx, r.st, docClients)
	if err != nil {
		return err
	}
	byID := map[string]*registeredClient{}
	origins := map[string]bool{}
	for _, c := range doc.Clients {
		rc := &registeredClient{Client: c}
		if len(c.JWKS) > 0 {
			set, err := jwk.Parse(c.JWKS)
			if err != nil {
				return fmt.Errorf("client %s: jwks: %w", c.ID, err)
			}
			rc.keys = set
		}
		byID[c.ID] = rc
		for _, u := range c.RedirectURIs {
			if o := originOf(u); o != "" {
				origins[o] = true
			}
		}
	}
	r.byID, r.origins, r.version = byID, origins, version
	return nil
}

// get returns a client by id, re-reading the registry if it changed.
func (r *clientRegistry) get(id string) (*registeredClient, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.shared || time.Since(r.polled) >= pollEvery {
		if err := r.reloadLocked(); err != nil {
			return nil, false, err
		}
	}
	c, ok := r.byID[id]
	return c, ok, nil
}

// allowsOrigin reports whether a browser origin belongs to a registered
// client (the origin of one of its redirect URIs). It checks the file at
// most once a second: it runs on FHIR requests from browsers.
func (r *clientRegistry) allowsOrigin(origin string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.now().Sub(r.checked) >= time.Second {
		_ = r.reloadLocked() // a broken file keeps the last good origins
	}
	return r.origins[origin]
}

// originOf is scheme://host[:port] of a URL, as browsers send in Origin.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
