package auth

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
	"github.com/telederm/telederm/internal/auth/authstate/statetest"
)

func TestFileState(t *testing.T) {
	statetest.Run(t, func(t *testing.T) authstate.State { return newFileState(t.TempDir(), time.Now) })
}

// TestFileStateKeepsRecordsAcrossRestarts: revocations and refresh tokens
// (and their markers) are in files, mode 0600; launches and codes are in
// memory only.
func TestFileStateKeepsRecordsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	exp := time.Now().Add(time.Hour)
	first := newFileState(dir, time.Now)
	for _, kind := range []string{kindRevoked, kindRefresh, kindRefreshUsed, kindFamilyRevoked, kindLaunch, kindCode} {
		if err := insertJSON(first, kind, "k", struct{}{}, exp); err != nil {
			t.Fatal(err)
		}
	}
	again := newFileState(dir, time.Now)
	for _, c := range []struct {
		kind string
		kept bool
	}{{kindRevoked, true}, {kindRefresh, true}, {kindRefreshUsed, true}, {kindFamilyRevoked, true}, {kindLaunch, false}, {kindCode, false}} {
		if got, err := exists(again, c.kind, "k", time.Now()); err != nil || got != c.kept {
			t.Errorf("%s after a restart: %v, %v; want %v", c.kind, got, err, c.kept)
		}
		if f, ok := kindFiles[c.kind]; ok {
			fi, err := os.Stat(filepath.Join(dir, f))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, %v; want mode 0600", f, fi.Mode(), err)
			}
		}
	}
}

// TestFileStateReadsOldFiles: revoked.json and refresh.json as written
// before records were generic still revoke and refresh after an upgrade.
func TestFileStateReadsOldFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tokenExp := now.Add(time.Hour).Format(time.RFC3339)
	files := map[string]string{
		revokedFile: `{"jti-1": "` + tokenExp + `", "jti-gone": "2025-03-01T08:00:00Z"}`,
		refreshFile: `{"h-live": {"family": "f1", "context": {"client_id": "app", "sub": "jane", "scope": "offline_access"},
			"offline": true, "expires": "` + tokenExp + `", "access_jti": "a1", "access_exp": "` + tokenExp + `"},
			"h-used": {"family": "f1", "context": {"client_id": "app", "sub": "jane"}, "expires": "` + tokenExp + `", "used": true}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := newFileState(dir, func() time.Time { return now })
	for _, c := range []struct {
		kind, key string
		want      bool
	}{
		{kindRevoked, "jti-1", true},
		{kindRevoked, "jti-gone", false}, // its token expired long ago
		{kindRefresh, "h-live", true},
		{kindRefresh, "h-used", false},
	} {
		if got, err := exists(st, c.kind, c.key, now); err != nil || got != c.want {
			t.Errorf("%s %s: %v, %v; want %v", c.kind, c.key, got, err, c.want)
		}
	}
	rs := &refreshStore{st: st, now: func() time.Time { return now }, keep: time.Hour}
	grants, err := rs.grantsOf("jane")
	if err != nil || len(grants) != 1 || grants[0].Family != "f1" || grants[0].AccessJTI != "a1" {
		t.Errorf("grants of jane from the old refresh.json: %+v, %v", grants, err)
	}
}
