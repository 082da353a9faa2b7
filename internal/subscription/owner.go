package subscription

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/telederm/telederm/internal/access"
	"github.com/telederm/telederm/internal/store"
)

// ownerJSON is a grant as the delivery state keeps it: who, for which
// patient, with which scopes. The token itself is never kept.
type ownerJSON struct {
	ClientID string `json:"client_id"`
	Subject  string `json:"sub,omitempty"`
	FHIRUser string `json:"fhir_user,omitempty"`
	Patient  string `json:"patient,omitempty"`
	Scope    string `json:"scope"`
}

func encodeGrant(g *access.Grant) []byte {
	b, _ := json.Marshal(ownerJSON{ClientID: g.ClientID, Subject: g.Subject, FHIRUser: g.FHIRUser, Patient: g.Patient, Scope: g.Scopes.String()})
	return b
}

func decodeGrant(b []byte) (*access.Grant, error) {
	var o ownerJSON
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	scopes, err := access.ParseScopes(o.Scope)
	if err != nil {
		return nil, err
	}
	return &access.Grant{ClientID: o.ClientID, Subject: o.Subject, FHIRUser: o.FHIRUser, Patient: o.Patient, Scopes: scopes}, nil
}

func digest(body []byte) []byte {
	d := sha256.Sum256(body)
	return d[:]
}

// errNoOwner: with authorization on, a subscription version whose writer
// is not on record. Its notifications then carry nothing (fail closed).
var errNoOwner = errors.New("no owner on record")

// ownerOf finds the grant that wrote subscription version v, or the
// latest client-written version before it (the server's own status
// writes leave the owner as it was). Nil with no error means authorization
// is off.
func (m *Manager) ownerOf(ctx context.Context, id string, v int64) (*access.Grant, error) {
	if !m.cfg.Restrict {
		return nil, nil
	}
	m.ownersMu.Lock()
	c, ok := m.owners[id]
	m.ownersMu.Unlock()
	if ok && c.v == v {
		if c.g == nil {
			return nil, errNoOwner
		}
		return c.g, nil
	}
	rows, err := m.cfg.State.Owners(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, o := range rows {
		if o.Version > v {
			continue
		}
		sv, err := m.cfg.Repo.Version(ctx, "Subscription", id, o.Version)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(digest(sv.Body), o.Digest) {
			continue // recorded for a write that did not commit
		}
		g, err := decodeGrant(o.Grant)
		if err != nil {
			return nil, fmt.Errorf("owner of Subscription/%s: %w", id, err)
		}
		m.ownersMu.Lock()
		m.owners[id] = cachedOwner{v, g}
		m.ownersMu.Unlock()
		return g, nil
	}
	m.log.Warn("subscription has no owner on record; what it would notify is withheld", "subscription", id, "version", v)
	m.ownersMu.Lock()
	m.owners[id] = cachedOwner{v, nil}
	m.ownersMu.Unlock()
	return nil, errNoOwner
}

// cachedOwner is the owner found for one subscription version; g nil:
// none on record.
type cachedOwner struct {
	v int64
	g *access.Grant
}

// asOwner is ctx carrying the owner's grant, for the rest layer's checks.
func asOwner(ctx context.Context, g *access.Grant) context.Context {
	if g == nil {
		return ctx
	}
	return access.NewContext(ctx, g)
}
