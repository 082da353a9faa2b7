// Package mongotest gives tests of other packages a MongoDB to run a
// server on: an in-process FerretDB (SQLite handler), since
// no MongoDB server can be installed where the tests run; or, when
// EnvURI is set, that deployment. FerretDB speaks
// the wire protocol but has no multi-document transactions and no change
// streams, and answers every filter on a nested field by reading each
// document: its speed says nothing about MongoDB's.
package mongotest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvStore is the environment variable that moves the tests built on
// servertest to another backend: "ferretdb" runs them on an in-process
// FerretDB; empty (the default) on the embedded SQLite store.
const EnvStore = "TELEDERM_TEST_STORE"

// EnvURI names a MongoDB deployment to run those tests on instead of
// FerretDB (a replica set runs the transaction tests FerretDB skips).
// Each test gets a database of its own, dropped at its end.
const EnvURI = "TELEDERM_TEST_MONGODB_URI"

// Wanted reports whether EnvStore asks for FerretDB, or EnvURI names a
// deployment.
func Wanted() bool { return os.Getenv(EnvStore) == "ferretdb" || os.Getenv(EnvURI) != "" }

var (
	once    sync.Once
	baseURI string
	startEr error
	dbs     atomic.Int64
)

// URI returns the URI of a fresh database on the test binary's FerretDB,
// started at the first call and left running until the binary exits.
func URI() (string, error) {
	once.Do(start)
	if startEr != nil {
		return "", startEr
	}
	return withDatabase(baseURI, fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))), nil
}

// Transactions reports whether the tests' deployment has multi-document
// transactions (a replica set or mongos: hello says so); FerretDB has
// none. why names the deployment, for a skip message.
func Transactions() (ok bool, why string, err error) {
	once.Do(start)
	if startEr != nil {
		return false, "", startEr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(baseURI))
	if err != nil {
		return false, "", err
	}
	defer c.Disconnect(ctx)
	var hello struct {
		SetName string `bson:"setName"`
		Msg     string `bson:"msg"`
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		return false, "", err
	}
	if hello.SetName != "" || hello.Msg == "isdbgrid" {
		return true, "", nil
	}
	if os.Getenv(EnvURI) == "" {
		return false, "the in-process FerretDB has no multi-document transactions", nil
	}
	return false, EnvURI + " names a standalone server, which has no multi-document transactions", nil
}

// withDatabase puts the database name in a URI's path, keeping its
// options (replicaSet=...).
func withDatabase(uri, name string) string {
	base, query, hasQuery := strings.Cut(uri, "?")
	if scheme, rest, ok := strings.Cut(base, "://"); ok {
		hosts, _, _ := strings.Cut(rest, "/")
		base = scheme + "://" + hosts
	}
	out := base + "/" + name
	if hasQuery {
		out += "?" + query
	}
	return out
}

// databaseOf is the database name in a URI's path.
func databaseOf(uri string) string {
	base, _, _ := strings.Cut(uri, "?")
	return base[strings.LastIndex(base, "/")+1:]
}

func start() {
	if uri := os.Getenv(EnvURI); uri != "" {
		baseURI = uri
		return
	}
	// One directory for every test binary: each database is a file of
	// its own, named after the binary's process, and removed by Drop.
	// (FerretDB's in-memory mode has one connection per database, on
	// which its bulk writes deadlock.)
	dir := filepath.Join(os.TempDir(), "telederm-ferretdb-tests")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		startEr = err
		return
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(off)",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		startEr = fmt.Errorf("FerretDB did not start: %w", err)
		return
	}
	go func() { _ = f.Run(context.Background()) }()
	uri := f.MongoDBURI() // blocks until the listener is up
	host := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			startEr = fmt.Errorf("FerretDB did not listen: %w", err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	baseURI = uri
}

// Drop removes the database a URI from URI names, and its file.
func Drop(uri string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer c.Disconnect(ctx)
	return c.Database(databaseOf(uri)).Drop(ctx)
}
