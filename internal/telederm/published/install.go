package published

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// installAttempts bounds the retries when another server instance
// installs at the same moment (a version conflict); the second round
// finds its work done.
const installAttempts = 3

// Install writes every published resource into repo, with the id it is
// published under, as a new version when it is absent (or deleted) or
// when its content differs from the current version's (meta aside). All of
// them are committed at once, rendered as the REST layer renders a write
// (codec output with meta.versionId and meta.lastUpdated, index entries
// from ix), so reads, searches by url and _history treat them like any
// other resource. ix must be built like the REST layer's (same registry
// and base URL); nil means the R4 registry and no base.
func Install(ctx context.Context, repo store.Repository, codec *fhir.Codec, ix *search.Indexer, now time.Time) error {
	if ix == nil {
		ix = search.NewIndexer(nil, "")
	}
	now = now.UTC().Truncate(time.Millisecond) // the precision FHIR instants keep
	var err error
	for range installAttempts {
		var changes []store.Change
		if changes, err = pending(ctx, repo, codec, ix, now); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		if err = repo.Commit(ctx, changes); !store.IsConflict(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("published: install: %w", err)
	}
	return nil
}

// pending renders the changes that bring the store up to date.
func pending(ctx context.Context, repo store.Repository, codec *fhir.Codec, ix *search.Indexer, now time.Time) ([]store.Change, error) {
	var changes []store.Change
	for _, r := range all() {
		res, o := codec.Parse(r.Body)
		if o != nil {
			return nil, fmt.Errorf("published: %s/%s does not parse: %v", r.Type, r.ID, o.Error())
		}
		var prev int64
		cur, err := repo.Current(ctx, r.Type, r.ID)
		switch {
		case err == nil:
			prev = cur.VersionID
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("published: read %s/%s: %w", r.Type, r.ID, err)
		}
		if cur != nil && !cur.Deleted {
			fresh, err := codec.Marshal(res)
			if err != nil {
				return nil, err
			}
			same, err := sameButMeta(cur.Body, fresh)
			if err != nil {
				return nil, fmt.Errorf("published: %s/%s: %w", r.Type, r.ID, err)
			}
			if same {
				continue
			}
		}
		c, err := render(codec, ix, res, prev, now)
		if err != nil {
			return nil, fmt.Errorf("published: %s/%s: %w", r.Type, r.ID, err)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// render is version prev+1 of res as the REST layer's prepareVersion makes
// it.
func render(codec *fhir.Codec, ix *search.Indexer, res *fhir.Resource, prev int64, now time.Time) (store.Change, error) {
	version := prev + 1
	res.SetMeta(strconv.FormatInt(version, 10), now)
	body, err := codec.Marshal(res)
	if err != nil {
		return store.Change{}, err
	}
	doc, err := decodeNumbers(body)
	if err != nil {
		return store.Change{}, err
	}
	index, err := ix.Entries(doc)
	if err != nil {
		return store.Change{}, fmt.Errorf("index: %w", err)
	}
	return store.Change{
		Type: res.Type(), ID: res.ID(), PrevVersion: prev, Version: version,
		LastUpdated: now, Method: store.MethodUpdate, Body: body, Index: index,
	}, nil
}

// sameButMeta reports whether two renderings of a resource agree on
// everything but meta.
func sameButMeta(a, b []byte) (bool, error) {
	da, err := decodeNumbers(a)
	if err != nil {
		return false, err
	}
	db, err := decodeNumbers(b)
	if err != nil {
		return false, err
	}
	delete(da, "meta")
	delete(db, "meta")
	return reflect.DeepEqual(da, db), nil
}

// decodeNumbers decodes resource JSON as the indexer reads it (numbers
// keep their exact text).
func decodeNumbers(body []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return doc, nil
}
