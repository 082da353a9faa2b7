package auth

import (
	"path/filepath"
	"sync"
	"time"
)

// refreshRecord is one refresh token, kept by hash in refresh.json.
// Tokens of one grant share a family: each use rotates to a new token and
// marks the old one used; presenting a used one revokes the family.
type refreshRecord struct {
	Family   string       `json:"family"`
	Context  tokenContext `json:"context"`
	Offline  bool         `json:"offline"`
	AuthTime time.Time    `json:"auth_time"`
	Expires  time.Time    `json:"expires"`
	Used     bool         `json:"used,omitempty"`
	// AccessJTI and AccessExp name the access token issued with this
	// refresh token, revoked with the family.
	AccessJTI string    `json:"access_jti"`
	AccessExp time.Time `json:"access_exp"`
}

type refreshStore struct {
	path string
	mu   sync.Mutex
	m    map[string]*refreshRecord // hash of the token -> record
}

func openRefreshStore(dir string, now time.Time) (*refreshStore, error) {
	s := &refreshStore{path: filepath.Join(dir, refreshFile), m: map[string]*refreshRecord{}}
	if _, err := readJSONFile(s.path, &s.m); err != nil {
		return nil, err
	}
	s.pruneLocked(now)
	return s, nil
}

func (s *refreshStore) pruneLocked(now time.Time) {
	for h, r := range s.m {
		if now.After(r.Expires) {
			delete(s.m, h)
		}
	}
}

// refreshState is what looking a refresh token up found.
type refreshState int

const (
	refreshValid refreshState = iota
	refreshUnknown
	refreshReused
)

// issue stores a new refresh token; rotating from an old one (oldHash set)
// marks the old one used in the same write.
func (s *refreshStore) issue(rec refreshRecord, oldHash string, now time.Time) (string, error) {
	tok := randomToken(32)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	if old := s.m[oldHash]; old != nil {
		old.Used = true
	}
	r := rec
	s.m[hashToken(tok)] = &r
	return tok, s.saveLocked()
}

// use looks a token up for the refresh grant. A used token revokes its
// family: the access tokens it issued come back for the revocation list.
func (s *refreshStore) use(tok string, now time.Time) (refreshRecord, refreshState, map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[hashToken(tok)]
	if !ok || now.After(r.Expires) {
		return refreshRecord{}, refreshUnknown, nil, nil
	}
	if r.Used {
		revoked, err := s.revokeFamilyLocked(r.Family)
		return *r, refreshReused, revoked, err
	}
	return *r, refreshValid, nil, nil
}

// lookup returns a live token's record, for introspection and revocation.
func (s *refreshStore) lookup(tok string, now time.Time) (refreshRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.m[hashToken(tok)]
	if !ok || r.Used || now.After(r.Expires) {
		return refreshRecord{}, false
	}
	return *r, true
}

// revokeFamily drops every token of a family and returns the access tokens
// they issued.
func (s *refreshStore) revokeFamily(family string) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revokeFamilyLocked(family)
}

func (s *refreshStore) revokeFamilyLocked(family string) (map[string]time.Time, error) {
	revoked := map[string]time.Time{}
	dropped := false
	for h, r := range s.m {
		if r.Family == family {
			if r.AccessJTI != "" {
				revoked[r.AccessJTI] = r.AccessExp
			}
			delete(s.m, h)
			dropped = true
		}
	}
	if !dropped {
		return nil, nil
	}
	return revoked, s.saveLocked()
}

// grantsOf lists the live grants (one per family) of a user, for the
// management page.
func (s *refreshStore) grantsOf(subject string, now time.Time) []refreshRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []refreshRecord
	for _, r := range s.m {
		if !r.Used && r.Context.Subject == subject && now.Before(r.Expires) {
			out = append(out, *r)
		}
	}
	return out
}

func (s *refreshStore) saveLocked() error { return writeJSONFile(s.path, s.m) }
