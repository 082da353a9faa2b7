package published

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"sync"
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
func Install(ctx context.Context, repo store.Repository, ix *search.Indexer, now time.Time) error {
	if ix == nil {
		ix = search.NewIndexer(nil, "")
	}
	now = now.UTC().Truncate(time.Millisecond) // the precision FHIR instants keep
	var err error
	for range installAttempts {
		var changes []store.Change
		if changes, err = pending(ctx, repo, ix, now); err != nil {
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

// canonical is each published resource as the codec renders it (parsed,
// validated and marshalled once per process: the StructureDefinition
// snapshots are large, and every server start installs them), decoded.
var canonical = sync.OnceValues(func() ([]map[string]any, error) {
	codec, err := fhir.NewCodec()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, r := range all() {
		res, o := codec.Parse(r.Body)
		if o != nil {
			return nil, fmt.Errorf("published: %s/%s does not parse: %v", r.Type, r.ID, o.Error())
		}
		body, err := codec.Marshal(res)
		if err != nil {
			return nil, err
		}
		doc, err := decodeNumbers(body)
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
})

// pending renders the changes that bring the store up to date.
func pending(ctx context.Context, repo store.Repository, ix *search.Indexer, now time.Time) ([]store.Change, error) {
	docs, err := canonical()
	if err != nil {
		return nil, err
	}
	var changes []store.Change
	for i, r := range all() {
		var prev int64
		cur, err := repo.Current(ctx, r.Type, r.ID)
		switch {
		case err == nil:
			prev = cur.VersionID
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("published: read %s/%s: %w", r.Type, r.ID, err)
		}
		if cur != nil && !cur.Deleted {
			stored, err := decodeNumbers(cur.Body)
			if err != nil {
				return nil, fmt.Errorf("published: %s/%s: %w", r.Type, r.ID, err)
			}
			if sameButMeta(stored, docs[i]) {
				continue
			}
		}
		c, err := render(ix, r, docs[i], prev, now)
		if err != nil {
			return nil, fmt.Errorf("published: %s/%s: %w", r.Type, r.ID, err)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// render is version prev+1 of a published resource as the REST layer
// would store it: the codec's rendering with meta.versionId and
// meta.lastUpdated.
func render(ix *search.Indexer, r resource, canon map[string]any, prev int64, now time.Time) (store.Change, error) {
	version := prev + 1
	doc := maps.Clone(canon)
	doc["meta"] = map[string]any{"versionId": strconv.FormatInt(version, 10), "lastUpdated": now.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	body, err := fhir.EncodeResource(doc)
	if err != nil {
		return store.Change{}, err
	}
	index, err := ix.Entries(doc)
	if err != nil {
		return store.Change{}, fmt.Errorf("index: %w", err)
	}
	return store.Change{
		Type: r.Type, ID: r.ID, PrevVersion: prev, Version: version,
		LastUpdated: now, Method: store.MethodUpdate, Body: body, Index: index,
	}, nil
}

// sameButMeta reports whether two decoded renderings of a resource agree
// on everything but meta.
func sameButMeta(a, b map[string]any) bool {
	a, b = maps.Clone(a), maps.Clone(b)
	delete(a, "meta")
	delete(b, "meta")
	return reflect.DeepEqual(a, b)
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
