package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
)

// State is where the authorization server keeps its state (see
// authstate.State). Config.State nil means files and memory under the data
// directory, for a server alone on it; a shared State (MongoDB) lets
// several processes serve one deployment.
type State = authstate.State

// Documents.
const (
	docKeys    = "keys"
	docClients = "clients"
	docUsers   = "users"
)

// Record kinds. A "-used" kind marks its record's single use: inserting
// the marker under the record's key is what decides which of two
// concurrent uses wins.
const (
	kindRevoked       = "revoked"        // jti of a revoked access token
	kindRefresh       = "refresh"        // refresh token (by hash)
	kindRefreshUsed   = "refresh-used"   // a refresh token rotated away
	kindFamilyRevoked = "family-revoked" // a refresh family revoked: no new token in it
	kindCode          = "code"           // authorization code (by hash)
	kindCodeUsed      = "code-used"      // a code exchanged
	kindCodeIssued    = "code-issued"    // what an exchanged code issued
	kindCodeRevoked   = "code-revoked"   // a code presented twice: revoke what it issued
	kindLaunch        = "launch"         // EHR launch (by hash of its id)
	kindLaunchUsed    = "launch-used"
	kindSignIn        = "signin"    // sign-in transaction (by hash of its id)
	kindAssertion     = "assertion" // client assertion id seen (by hash of client and jti)
)

// stateTimeout bounds one call to the state.
const stateTimeout = 10 * time.Second

// pollEvery is how often a server on a shared State looks for other
// processes' changes: revocations, clients, users, keys.
const pollEvery = time.Second

func stateCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), stateTimeout)
}

// insertJSON inserts v as a record's data.
func insertJSON(st State, kind, key string, v any, exp time.Time, labels ...string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx, cancel := stateCtx()
	defer cancel()
	return st.Insert(ctx, kind, authstate.Record{Key: key, Data: b, Expires: exp, Labels: labels})
}

// getJSON reads a record's data into v. found is false when there is no
// record; expired when there is one past its expiry (v is then filled
// all the same).
func getJSON(st State, kind, key string, v any, now time.Time) (found, expired bool, err error) {
	ctx, cancel := stateCtx()
	defer cancel()
	r, err := st.Get(ctx, kind, key)
	if errors.Is(err, authstate.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	if v != nil && len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, v); err != nil {
			return true, false, fmt.Errorf("auth state: %s record: %w", kind, err)
		}
	}
	return true, !now.Before(r.Expires), nil
}

// exists reports whether an unexpired record exists.
func exists(st State, kind, key string, now time.Time) (bool, error) {
	found, expired, err := getJSON(st, kind, key, nil, now)
	return found && !expired, err
}

// claim inserts the marker of a record's single use; false when another
// use got there first.
func claim(st State, kind, key string, exp time.Time) (bool, error) {
	ctx, cancel := stateCtx()
	defer cancel()
	err := st.Insert(ctx, kind, authstate.Record{Key: key, Data: []byte("{}"), Expires: exp})
	if errors.Is(err, authstate.ErrExists) {
		return false, nil
	}
	return err == nil, err
}

func deleteRecord(st State, kind, key string) error {
	ctx, cancel := stateCtx()
	defer cancel()
	return st.Delete(ctx, kind, key)
}

// updateDoc is read-modify-write of a JSON document: change edits the
// decoded document (reporting whether it changed anything); a conflict
// with another writer reads again and retries.
func updateDoc[D any](ctx context.Context, st State, name string, change func(*D) (bool, error)) (D, int64, error) {
	for attempt := 0; ; attempt++ {
		var doc D
		data, version, err := st.LoadDoc(ctx, name)
		if err != nil {
			return doc, 0, err
		}
		if len(data) > 0 {
			if err := json.Unmarshal(data, &doc); err != nil {
				return doc, 0, fmt.Errorf("auth state: %s: %w", name, err)
			}
		}
		changed, err := change(&doc)
		if err != nil || !changed {
			return doc, version, err
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return doc, 0, err
		}
		v, err := st.SaveDoc(ctx, name, b, version)
		if errors.Is(err, authstate.ErrConflict) && attempt < 10 {
			continue
		}
		return doc, v, err
	}
}

// loadDoc reads a JSON document.
func loadDoc[D any](ctx context.Context, st State, name string) (D, int64, error) {
	return updateDoc(ctx, st, name, func(*D) (bool, error) { return false, nil })
}

// adoptFiles copies the documents of a data directory (keys.json,
// clients.json, users.json) into a shared state that has none of them
// yet: a deployment moving from the embedded store to MongoDB keeps its
// clients, users and signing keys. Of several processes starting at once,
// one copies (the others' SaveDoc conflicts); afterwards the state is the
// only source, and the files are not read again.
func adoptFiles(ctx context.Context, st State, dir string, log func(doc string)) error {
	files := newFileState(dir, time.Now)
	for _, name := range []string{docKeys, docClients, docUsers} {
		v, err := st.DocVersion(ctx, name)
		if err != nil {
			return err
		}
		if v != 0 {
			continue
		}
		data, fv, err := files.LoadDoc(ctx, name)
		if err != nil {
			return err
		}
		if fv == 0 {
			continue
		}
		_, err = st.SaveDoc(ctx, name, bytes.TrimSpace(data), 0)
		switch {
		case err == nil:
			log(name)
		case !errors.Is(err, authstate.ErrConflict):
			return err
		}
	}
	return nil
}
