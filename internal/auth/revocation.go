package auth

import (
	"path/filepath"
	"sync"
	"time"
)

// revocationList holds the ids (jti) of revoked access tokens until the
// tokens expire, in memory for Authenticate and in revoked.json so that a
// restart does not bring a revoked token back.
type revocationList struct {
	path string
	mu   sync.RWMutex
	jtis map[string]time.Time // jti -> the token's expiry
}

func openRevocationList(dir string, now time.Time) (*revocationList, error) {
	l := &revocationList{path: filepath.Join(dir, revokedFile), jtis: map[string]time.Time{}}
	if _, err := readJSONFile(l.path, &l.jtis); err != nil {
		return nil, err
	}
	for jti, exp := range l.jtis {
		if now.After(exp.Add(leeway)) {
			delete(l.jtis, jti)
		}
	}
	return l, nil
}

// has reports whether jti is revoked.
func (l *revocationList) has(jti string) bool {
	l.mu.RLock()
	_, ok := l.jtis[jti]
	l.mu.RUnlock()
	return ok
}

// add revokes tokens by jti (with their expiry) and persists the list,
// dropping entries whose tokens have expired anyway.
func (l *revocationList) add(now time.Time, revoked map[string]time.Time) error {
	if len(revoked) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for jti, exp := range revoked {
		l.jtis[jti] = exp
	}
	for jti, exp := range l.jtis {
		if now.After(exp.Add(leeway)) {
			delete(l.jtis, jti)
		}
	}
	return writeJSONFile(l.path, l.jtis)
}
