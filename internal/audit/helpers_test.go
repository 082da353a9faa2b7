package audit

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store/mongo"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

const testBase = "https://telederm.example/fhir"

// openTrail opens a trail in a fresh place, closed when the test ends.
func openTrail(t testing.TB, opts Options) *Trail {
	t.Helper()
	return openTrailIn(t, t.TempDir(), opts)
}

// openTrailIn opens the trail kept in dir: the SQLite file there, or, when
// the suite runs on FerretDB (TELEDERM_TEST_STORE=ferretdb), the MongoDB
// store of the database that stands for dir.
func openTrailIn(t testing.TB, dir string, opts Options) *Trail {
	t.Helper()
	if !mongotest.Wanted() {
		return openSQLiteTrailIn(t, dir, opts)
	}
	s, err := auditStoreIn(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := OpenStore(s, testOptions(opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() }) // a second Close does nothing
	return tr
}

// openSQLiteTrailIn opens dir/audit.db whatever the suite runs on, for
// the tests of the SQLite store itself.
func openSQLiteTrailIn(t testing.TB, dir string, opts Options) *Trail {
	t.Helper()
	tr, err := Open(context.Background(), dir, testOptions(opts))
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

func testOptions(opts Options) Options {
	if opts.BaseURL == "" {
		opts.BaseURL = testBase
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return opts
}

// databases maps the directories of the tests to the FerretDB databases
// that stand for them, so that a test reopening a directory reopens its
// database.
var databases sync.Map

// auditStoreIn opens the MongoDB audit store of dir's database, on a
// connection closed when the test ends; it skips the test when FerretDB
// does not start.
func auditStoreIn(t testing.TB, dir string) (*mongo.AuditStore, error) {
	t.Helper()
	uri, ok := databases.Load(dir)
	if !ok {
		u, err := mongotest.URI()
		if err != nil {
			t.Skipf("FerretDB did not start: %v", err)
		}
		uri, _ = databases.LoadOrStore(dir, u)
		t.Cleanup(func() { _ = mongotest.Drop(u) })
	}
	ctx := context.Background()
	s, err := mongo.Open(ctx, uri.(string), mongo.Options{AllowNonAtomic: true, Quiet: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.AuditStore(ctx)
}

// idOf is the id of the newest event that matches query.
func idOf(t testing.TB, tr *Trail, query string) string {
	t.Helper()
	resp := tr.SearchAuditEvents(context.Background(), queryOf(t, query+"&_count=1"), true)
	var b bundleJSON
	if err := json.Unmarshal(resp.Body, &b); err != nil || len(b.Entry) == 0 {
		t.Fatalf("%s: no event (%d %s)", query, resp.Status, resp.Body)
	}
	var ev eventJSON
	if err := json.Unmarshal(b.Entry[0].Resource, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

// otherID is an id of the trail's store that no event has: id's key with
// its last byte changed.
func otherID(t testing.TB, tr *Trail, id string) string {
	t.Helper()
	key, ok := tr.ids.key(id)
	if !ok {
		t.Fatalf("%q is not an id of the trail", id)
	}
	b := []byte(key)
	b[len(b)-1] ^= 0x80
	return tr.ids.id(string(b))
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
