package mongo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// The tests run against an in-process FerretDB (SQLite handler, in a
// temporary directory): no MongoDB server can be installed where they run.
// FerretDB speaks the MongoDB wire protocol but has no multi-document
// transactions, no change streams and no wildcard indexes, and answers
// every filter on a nested field by reading each document of the
// collection: its speed says nothing about MongoDB's.
var (
	serverURI  string // empty when FerretDB did not start
	serverSkip string // why
	// TELEDERM_TEST_MONGODB_URI runs the tests on that MongoDB deployment
	// instead (a replica set runs the transaction and change-stream tests
	// FerretDB skips); each test uses a database of its own.
	externalURI = os.Getenv("TELEDERM_TEST_MONGODB_URI")
	dbCounter   atomic.Int64
)

func TestMain(m *testing.M) {
	stop := func() {}
	if externalURI != "" {
		serverURI = externalURI
	} else {
		stop = startFerret()
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func startFerret() (stop func()) {
	dir, err := os.MkdirTemp("", "telederm-ferretdb-")
	if err != nil {
		serverSkip = "no temporary directory for FerretDB: " + err.Error()
		return func() {}
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(off)",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		serverSkip = "FerretDB did not start: " + err.Error()
		os.RemoveAll(dir)
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI blocks until the listener is up.
	uri := f.MongoDBURI()
	if err := waitListening(uri, 10*time.Second); err != nil {
		serverSkip = "FerretDB did not listen: " + err.Error()
	} else {
		serverURI = uri
	}
	return func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}
}

func waitListening(uri string, within time.Duration) error {
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testURI is the FerretDB URI with a database of its own for one test;
// the test skips, saying why, when FerretDB did not start.
func testURI(t testing.TB) (uri, db string) {
	t.Helper()
	if serverURI == "" {
		t.Skipf("no FerretDB to test against (%s)", serverSkip)
	}
	return serverURI, fmt.Sprintf("test%d", dbCounter.Add(1))
}

// openTest opens a store on a fresh database; non-atomic commits are
// allowed unless opts says otherwise, since FerretDB has no transactions.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	uri, db := testURI(t)
	if opts.Database == "" {
		opts.Database = db
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := Open(context.Background(), uri, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}
