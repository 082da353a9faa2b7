package auth

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/telederm/telederm/internal/auth/authstate"
)

// refreshRecord is one refresh token, kept by hash. Tokens of one grant
// share a family: each use rotates to a new token and marks the old one
// used; presenting a used one revokes the family.
type refreshRecord struct {
	Family   string       `json:"family"`
	Context  tokenContext `json:"context"`
	Offline  bool         `json:"offline"`
	AuthTime time.Time    `json:"auth_time"`
	Expires  time.Time    `json:"expires"`
	// AccessJTI and AccessExp name the access token issued with this
	// refresh token, revoked with the family.
	AccessJTI string    `json:"access_jti"`
	AccessExp time.Time `json:"access_exp"`
}

// refreshStore keeps refresh tokens in the state: a record per token
// (labelled with its family and user), a marker per token rotated away
// (inserted once: of two processes rotating one token, one wins and the
// other sees a reuse), and a marker per revoked family (a token issued in
// a family after it was revoked is withdrawn at once).
type refreshStore struct {
	st   State
	now  func() time.Time
	keep time.Duration // the longest refresh token lifetime: how long a family's revocation is kept
}

// errFamilyRevoked: the family was revoked while a token was issued in it.
var errFamilyRevoked = errors.New("the refresh token's grant has been revoked")

func familyLabel(f string) string  { return "family:" + f }
func subjectLabel(s string) string { return "sub:" + s }

// refreshState is what looking a refresh token up found.
type refreshState int

const (
	refreshValid refreshState = iota
	refreshUnknown
	refreshReused
)

// issue stores a new refresh token in rec.Family.
func (s *refreshStore) issue(rec refreshRecord) (string, error) {
	tok := randomToken(32)
	h := hashToken(tok)
	if err := insertJSON(s.st, kindRefresh, h, rec, rec.Expires, familyLabel(rec.Family), subjectLabel(rec.Context.Subject)); err != nil {
		return "", err
	}
	// A revocation of the family that listed its tokens before this one
	// was stored has left its marker first: withdraw the token.
	revoked, err := exists(s.st, kindFamilyRevoked, rec.Family, s.now())
	if err == nil && revoked {
		err = errFamilyRevoked
	}
	if err != nil {
		return "", errors.Join(err, deleteRecord(s.st, kindRefresh, h))
	}
	return tok, nil
}

// lookup finds a token: valid, unknown (or expired), or used already.
func (s *refreshStore) lookup(tok string) (refreshRecord, refreshState, error) {
	var rec refreshRecord
	h, now := hashToken(tok), s.now()
	found, expired, err := getJSON(s.st, kindRefresh, h, &rec, now)
	if err != nil || !found || expired || now.After(rec.Expires) {
		return refreshRecord{}, refreshUnknown, err
	}
	used, err := exists(s.st, kindRefreshUsed, h, now)
	switch {
	case err != nil:
		return refreshRecord{}, refreshUnknown, err
	case used:
		return rec, refreshReused, nil
	}
	return rec, refreshValid, nil
}

// claim marks a token used before it is rotated; false when it was used
// already (by a concurrent request, here or in another process).
func (s *refreshStore) claim(tok string, rec refreshRecord) (bool, error) {
	return claim(s.st, kindRefreshUsed, hashToken(tok), rec.Expires)
}

// revokeFamily drops every token of a family and returns the access tokens
// they issued.
func (s *refreshStore) revokeFamily(family string) (map[string]time.Time, error) {
	now := s.now()
	if _, err := claim(s.st, kindFamilyRevoked, family, now.Add(s.keep)); err != nil {
		return nil, err
	}
	ctx, cancel := stateCtx()
	defer cancel()
	recs, err := s.st.Find(ctx, kindRefresh, familyLabel(family))
	if err != nil {
		return nil, err
	}
	revoked := map[string]time.Time{}
	var errs []error
	for _, r := range recs {
		var rec refreshRecord
		if json.Unmarshal(r.Data, &rec) == nil && rec.AccessJTI != "" {
			revoked[rec.AccessJTI] = rec.AccessExp
		}
		errs = append(errs, s.st.Delete(ctx, kindRefresh, r.Key))
	}
	return revoked, errors.Join(errs...)
}

// grantsOf lists the live grants (one per family) of a user, for the
// management page.
func (s *refreshStore) grantsOf(subject string) ([]refreshRecord, error) {
	ctx, cancel := stateCtx()
	defer cancel()
	recs, err := s.st.Find(ctx, kindRefresh, subjectLabel(subject))
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []refreshRecord
	for _, r := range recs {
		var rec refreshRecord
		if err := json.Unmarshal(r.Data, &rec); err != nil || rec.Context.Subject != subject || !now.Before(rec.Expires) {
			continue
		}
		used, err := exists(s.st, kindRefreshUsed, r.Key, now)
		if err != nil {
			return nil, err
		}
		if !used {
			out = append(out, rec)
		}
	}
	return out, nil
}

// oldRefreshRecord reads an entry of refresh.json as written before
// records were generic (the record itself, with a used flag). A used
// token is dropped: presenting it again is then refused as unknown,
// without revoking its family.
func oldRefreshRecord(key string, b []byte) (authstate.Record, error) {
	var old struct {
		refreshRecord
		Used bool `json:"used"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return authstate.Record{}, err
	}
	if old.Used {
		return authstate.Record{Key: key}, nil // expired at the zero time: dropped
	}
	data, err := json.Marshal(old.refreshRecord)
	if err != nil {
		return authstate.Record{}, err
	}
	return authstate.Record{Key: key, Data: data, Expires: old.Expires,
		Labels: []string{familyLabel(old.Family), subjectLabel(old.Context.Subject)}}, nil
}
