package subscription

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/store"
)

// errGone: the subscription was deleted.
var errGone = errors.New("subscription deleted")

// maxStatusAttempts bounds the compare-and-set rounds of a status write
// racing client updates.
const maxStatusAttempts = 8

// writeStatus moves a Subscription to status to (with errText as its
// error element; "" removes it) by writing a new version through the REST
// layer, so history, the index and the commit log see it like any write.
// It writes only while the current status is one of from: a client that
// turned the subscription off meanwhile wins. It returns the current
// version read, written or not.
func (m *Manager) writeStatus(ctx context.Context, id string, from []string, to, errText string) (*Spec, []fhir.Issue, error) {
	for range maxStatusAttempts {
		v, err := m.cfg.Repo.Current(ctx, "Subscription", id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, errGone
		}
		if err != nil {
			return nil, nil, err
		}
		if v.Deleted {
			return nil, nil, errGone
		}
		d := json.NewDecoder(bytes.NewReader(v.Body))
		d.UseNumber()
		var doc map[string]any
		if err := d.Decode(&doc); err != nil {
			return nil, nil, fmt.Errorf("read Subscription/%s: %w", id, err)
		}
		status, _ := doc["status"].(string)
		oldErr, _ := doc["error"].(string)
		if !slices.Contains(from, status) || status == to && oldErr == errText {
			spec, issues := m.parseSpec(v.Body, v.VersionID)
			spec.ID = id
			return spec, issues, nil
		}
		doc["status"] = to
		if errText != "" {
			doc["error"] = errText
		} else {
			delete(doc, "error")
		}
		body, err := json.Marshal(doc)
		if err != nil {
			return nil, nil, err
		}
		resp := m.svc.Update(asServer(ctx), "Subscription", id, body, rest.ETag(v.VersionID))
		switch {
		case resp.Status == http.StatusPreconditionFailed:
			continue // a client wrote meanwhile: look again
		case !resp.OK():
			return nil, nil, fmt.Errorf("write status %s of Subscription/%s: %d %s", to, id, resp.Status, resp.Body)
		}
		m.log.Info("subscription status", "subscription", id, "status", to)
		spec, issues := m.parseSpec(resp.Body, resp.Version)
		spec.ID = id
		return spec, issues, nil
	}
	return nil, nil, fmt.Errorf("write status %s of Subscription/%s: too many concurrent writes", to, id)
}
