package subscription

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
	"github.com/telederm/telederm/internal/subscription/egress"
	"github.com/telederm/telederm/internal/subscription/wsock"
)

// Config is what a Manager needs.
type Config struct {
	// BaseURL is the server's public base URL (no trailing slash): topic
	// canonicals and notification references are built from it.
	BaseURL string
	Repo    store.Repository
	State   store.Deliveries
	// Registry is the search-parameter registry; nil means the R4 default.
	Registry *search.Registry
	// Egress says where notifications may go (--subscriptions-allow).
	Egress egress.Policy
	Logger *slog.Logger
	// Restrict is true when authorization is on: notifications then carry
	// only what the subscription's owner may read.
	Restrict bool
	// CommitSignal, when set, returns a channel closed at the next commit,
	// so the dispatcher wakes at once instead of at its next poll.
	CommitSignal func() <-chan struct{}
	// Tokens, when set, keeps the websocket binding tokens, so that
	// several processes sharing the store accept each other's (nil: in
	// this process's memory).
	Tokens store.BindingTokens
	Timing Timing
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Timing tunes delivery; zero fields take the defaults in brackets.
type Timing struct {
	// RetryMin is the first retry's delay after a failed delivery (1s);
	// each further failure doubles it, with jitter, up to RetryMax (5m).
	RetryMin, RetryMax time.Duration
	// ErrorAfter is how long deliveries may keep failing before the
	// subscription's status becomes error (10m). It then retries every
	// RetryMax, and is active again at its first success.
	ErrorAfter time.Duration
	// Timeout bounds one delivery when the subscription sets no
	// backport-timeout (10s); MaxTimeout caps what it may set (60s).
	Timeout, MaxTimeout time.Duration
	// MaxCount is the most events in one notification when the
	// subscription sets no backport-max-count (100).
	MaxCount int
	// Poll is how often the dispatcher looks for changes when no commit
	// signal woke it (1s), and how often a process with bound websockets
	// looks for their subscriptions' new events when nothing woke it.
	Poll time.Duration
	// TokenTTL is how long a websocket binding token is valid (5m).
	TokenTTL time.Duration
	// Batch is how many changes the dispatcher reads at once (500).
	Batch int
}

func (t Timing) withDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&t.RetryMin, time.Second)
	def(&t.RetryMax, 5*time.Minute)
	def(&t.ErrorAfter, 10*time.Minute)
	def(&t.Timeout, 10*time.Second)
	def(&t.MaxTimeout, 60*time.Second)
	def(&t.Poll, time.Second)
	def(&t.TokenTTL, 5*time.Minute)
	if t.MaxCount <= 0 {
		t.MaxCount = 100
	}
	if t.Batch <= 0 {
		t.Batch = 500
	}
	return t
}

// Resources is what the Manager needs from the REST layer: reads and
// writes under the rules every client follows (*rest.Service).
type Resources interface {
	Read(ctx context.Context, typ, id string) rest.Response
	VRead(ctx context.Context, typ, id, vid string) rest.Response
	Update(ctx context.Context, typ, id string, body []byte, ifMatch string) rest.Response
	Search(ctx context.Context, typ string, params url.Values, opts rest.SearchOptions) rest.Response
	MayRead(ctx context.Context, v *store.Version) (bool, error)
}

// Manager runs subscriptions: it vets Subscription writes, matches
// committed changes against live subscriptions, and delivers.
type Manager struct {
	cfg     Config
	timing  Timing
	log     *slog.Logger
	now     func() time.Time
	topics  *topicSet
	queries queryParser
	ix      *search.Indexer
	hub     *wsock.Hub
	clients clientCache

	svc          Resources
	authenticate func(*http.Request) (*access.Grant, error)

	ownersMu sync.Mutex
	owners   map[string]cachedOwner

	// mu guards workers: one per live subscription.
	mu      sync.Mutex
	workers map[string]*worker

	// feedsMu guards feeds: one per subscription with websockets bound
	// at this process (socketfeed.go).
	feedsMu sync.Mutex
	feeds   map[string]*socketFeed
	// process names this process's websocket delivery records.
	process string

	// The dispatcher's own state, touched only by its goroutine.
	cursor int64
	index  *matchIndex
	dirty  int // changes passed since the cursor was last recorded

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

// New returns a Manager; Start runs it.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	reg := cfg.Registry
	if reg == nil {
		reg = search.Default()
	}
	m := &Manager{
		cfg: cfg, timing: cfg.Timing.withDefaults(), log: cfg.Logger, now: cfg.Now,
		topics:  newTopics(cfg.BaseURL),
		queries: queryParser{reg: reg, base: cfg.BaseURL},
		ix:      search.NewIndexer(reg, cfg.BaseURL),
		owners:  map[string]cachedOwner{},
		workers: map[string]*worker{},
		feeds:   map[string]*socketFeed{},
		process: processName(),
		index:   newMatchIndex(),
	}
	m.clients = clientCache{policy: cfg.Egress, clients: map[time.Duration]*http.Client{}}
	hubOpts := []wsock.Option{wsock.WithAuthorize(m.authorizeBind), wsock.WithHandshake(m.wsHandshake)}
	if cfg.Tokens != nil {
		hubOpts = append(hubOpts, wsock.WithTokens(sharedTokens{m}))
	}
	m.hub = wsock.NewHub(cfg.Now, hubOpts...)
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// Start loads the dispatcher's state and starts the dispatcher and a
// delivery worker per live subscription. svc serves the reads and status
// writes; authenticate (nil when authorization is off) checks the bearer
// token of a websocket "bind ID".
func (m *Manager) Start(svc Resources, authenticate func(*http.Request) (*access.Grant, error)) error {
	if m.started {
		return errors.New("subscription: manager already started")
	}
	m.svc, m.authenticate = svc, authenticate
	if err := m.load(m.ctx); err != nil {
		return fmt.Errorf("subscription: load delivery state: %w", err)
	}
	m.started = true
	m.wg.Add(1)
	go m.dispatchLoop()
	return nil
}

// Close stops the dispatcher and the workers and closes every websocket;
// it returns once they have stopped. Events not yet delivered stay queued
// for the next start.
func (m *Manager) Close() error {
	m.cancel()
	m.hub.Close()
	m.wg.Wait()
	return nil
}

// WebSocket is the websocket notification endpoint (mount it at /ws).
func (m *Manager) WebSocket() http.Handler { return m.hub }

// websocketURL is where clients connect: the base URL with ws(s).
func (m *Manager) websocketURL() string {
	u, err := url.Parse(m.cfg.BaseURL)
	if err != nil {
		return ""
	}
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path += "/ws"
	return u.String()
}

// Advertise adds the topics and the backport profile to the
// CapabilityStatement's Subscription entry (rest.Config.Advertise).
func (m *Manager) Advertise(c *fhir.Capabilities) {
	for i := range c.Resources {
		r := &c.Resources[i]
		if r.Type != "Subscription" {
			continue
		}
		r.SupportedProfiles = append(r.SupportedProfiles, backportSubscription)
		for _, t := range m.topics.list {
			r.Canonicals = append(r.Canonicals, fhir.CanonicalExtension{URL: TopicCanonicalExtension, Value: t.URL})
		}
	}
}

// Topics lists the topics served, workflow topics first.
func (m *Manager) Topics() []*Topic { return m.topics.list }
