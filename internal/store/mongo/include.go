package mongo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// Include limits, as the SQLite backend's: :iterate follows at most this
// many rounds, and one page brings in at most this many resources.
const (
	maxIncludeRounds = 4
	maxIncluded      = 5000
)

// includes follows _include and _revinclude from the page's matches, and
// :iterate ones from what they bring in, each live resource once.
func (s *Store) includes(ctx context.Context, q *search.Query, matches []resourceDoc) ([]store.Version, error) {
	seen := make(map[string]bool, len(matches))
	for _, d := range matches {
		seen[d.Key] = true
	}
	var added []store.Version
	frontier := matches
	for round := 0; round <= maxIncludeRounds && len(frontier) > 0; round++ {
		var keys []string
		add := func(k string) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		for _, inc := range q.Include {
			if round == 0 || inc.Iterate {
				for _, k := range targetsOf(inc, frontier) {
					add(k)
				}
			}
		}
		for _, inc := range q.RevInclude {
			if round == 0 || inc.Iterate {
				found, err := s.referrers(ctx, inc, frontier)
				if err != nil {
					return nil, err
				}
				for _, k := range found {
					add(k)
				}
			}
		}
		next, err := s.live(ctx, keys)
		if err != nil {
			return nil, err
		}
		for i := range next {
			added = append(added, next[i].version())
		}
		if len(added) >= maxIncluded {
			return added[:maxIncluded], nil
		}
		frontier = next
	}
	return added, nil
}

// targetsOf lists the resources the include's references point at from
// the frontier.
func targetsOf(inc search.Include, frontier []resourceDoc) []string {
	var out []string
	for _, d := range frontier {
		if inc.SourceType != "" && inc.SourceType != "*" && d.Type != inc.SourceType {
			continue
		}
		var fields []string
		if inc.Wildcard || inc.Param == nil {
			for f := range d.X {
				fields = append(fields, f)
			}
			slices.Sort(fields)
		} else {
			fields = []string{fieldName(inc.Param.Code)}
		}
		for _, f := range fields {
			for _, r := range d.X[f][clRef] {
				k, ok := r.(string)
				if ok && (inc.TargetType == "" || strings.HasPrefix(k, inc.TargetType+"/")) {
					out = append(out, k)
				}
			}
		}
	}
	return out
}

// referrers lists the live resources that refer to the frontier through
// the _revinclude's parameter (any, for a wildcard).
func (s *Store) referrers(ctx context.Context, inc search.Include, frontier []resourceDoc) ([]string, error) {
	var targets []string
	for _, d := range frontier {
		if inc.TargetType == "" || d.Type == inc.TargetType {
			targets = append(targets, d.Key)
		}
	}
	if len(targets) == 0 {
		return nil, nil
	}
	filter := bson.D{{Key: "del", Value: false}}
	var colls []*mongo.Collection
	if inc.SourceType != "" && inc.SourceType != "*" {
		colls = []*mongo.Collection{s.resOf(inc.SourceType)}
	} else {
		types, err := s.storedTypes(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range types {
			colls = append(colls, s.resOf(t))
		}
	}
	if inc.Wildcard || inc.Param == nil {
		filter = append(filter, bson.E{Key: "refs", Value: bson.D{{Key: "$in", Value: targets}}})
	} else {
		filter = append(filter, bson.E{Key: values(inc.Param.Code, clRef).path(), Value: bson.D{{Key: "$in", Value: targets}}})
	}
	// The first maxIncluded by creation: of each type's, then of all.
	var docs []resourceDoc
	err := findAll(ctx, colls, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "cs", Value: 1}}).
		SetSort(bson.D{{Key: "cs", Value: 1}}).SetLimit(maxIncluded), func(d *resourceDoc) bool {
		docs = append(docs, *d)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("mongo: revinclude: %w", err)
	}
	slices.SortFunc(docs, func(a, b resourceDoc) int { return cmp.Compare(a.CS, b.CS) })
	docs = docs[:min(len(docs), maxIncluded)]
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Key
	}
	return out, nil
}

// live reads the live resources among keys, in that order.
func (s *Store) live(ctx context.Context, keys []string) ([]resourceDoc, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var docs []resourceDoc
	types, groups := byType(keys)
	for _, t := range types {
		err := findAll(ctx, []*mongo.Collection{s.resOf(t)}, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: groups[t]}}}, {Key: "del", Value: false}},
			options.Find(), func(d *resourceDoc) bool {
				docs = append(docs, *d)
				return true
			})
		if err != nil {
			return nil, fmt.Errorf("mongo: include: %w", err)
		}
	}
	byKey := make(map[string]int, len(docs))
	for i, d := range docs {
		byKey[d.Key] = i
	}
	out := make([]resourceDoc, 0, len(docs))
	for _, k := range keys {
		if i, ok := byKey[k]; ok {
			out = append(out, docs[i])
		}
	}
	return out, nil
}
