package audit

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"
)

const testBase = "https://telederm.example/fhir"

// openTrail opens a trail in a fresh directory, closed when the test ends.
func openTrail(t testing.TB, opts Options) *Trail {
	t.Helper()
	return openTrailIn(t, t.TempDir(), opts)
}

func openTrailIn(t testing.TB, dir string, opts Options) *Trail {
	t.Helper()
	if opts.BaseURL == "" {
		opts.BaseURL = testBase
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tr, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("close trail: %v", err)
		}
	})
	return tr
}

// fixedClock returns the times in order, one per call.
func fixedClock(times ...time.Time) func() time.Time {
	i := 0
	return func() time.Time {
		t := times[i]
		i++
		return t
	}
}

func flush(t testing.TB, tr *Trail) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// bundleJSON is the part of a searchset the tests read.
type bundleJSON struct {
	Type  string `json:"type"`
	Total *int   `json:"total"`
	Link  []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct{ Mode string }
	} `json:"entry"`
}

func (b bundleJSON) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

// eventJSON is the part of a rendered AuditEvent the tests read.
type eventJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Type         struct{ System, Code string }
	Subtype      []struct{ System, Code string }
	Action       string
	Recorded     string
	Outcome      string
	OutcomeDesc  string
	Agent        []struct {
		Type *struct {
			Coding []struct{ System, Code string }
		}
		Who *struct {
			Reference  string
			Identifier *struct{ Value string }
			Display    string
		}
		AltID     string `json:"altId"`
		Requestor bool
		Network   *struct{ Address, Type string }
	}
	Source struct {
		Site     string
		Observer struct{ Display string }
	}
	Entity []struct {
		What *struct {
			Reference  string
			Identifier *struct{ Value string }
		}
		Type *struct{ System, Code string }
		Role *struct{ System, Code string }
	}
}

// queryOf parses a query string; a test's table reads better that way.
func queryOf(t testing.TB, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
