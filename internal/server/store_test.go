package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
	"github.com/telederm/telederm/internal/store/mongo/mongotest"
)

// ferretStore is the URI of a fresh FerretDB database for one server; the
// test skips, saying why, when FerretDB did not start.
func ferretStore(t *testing.T) string {
	t.Helper()
	uri, err := mongotest.URI()
	if err != nil {
		t.Skipf("no in-process FerretDB to test the MongoDB backend on: %v", err)
	}
	t.Cleanup(func() { _ = mongotest.Drop(uri) })
	return uri
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/fhir+json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %s", url, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func twoPatients(bundleType string) string {
	entry := func(name string) string {
		return `{"resource":{"resourceType":"Patient","name":[{"family":"` + name + `"}]},"request":{"method":"POST","url":"Patient"}}`
	}
	return `{"resourceType":"Bundle","type":"` + bundleType + `","entry":[` + entry("Atomic") + `,` + entry("Atomic") + `]}`
}

func countPatients(t *testing.T, base string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/Patient?family=Atomic&_total=accurate")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		Total float64 `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Total
}

// TestMongoTransactionsWithoutTransactions: on a MongoDB deployment
// without multi-document transactions (FerretDB, like a standalone
// server), a transaction Bundle is refused with an OperationOutcome
// saying why and writes nothing, while a batch and single writes work;
// with MongoNonAtomicTransactions the transaction goes through.
func TestMongoTransactionsWithoutTransactions(t *testing.T) {
	uri := ferretStore(t)
	base := servertest.Start(t, server.Config{Auth: "off", NoWorkflow: true, Store: uri})

	status, out := post(t, base, twoPatients("transaction"))
	issue, _ := out["issue"].([]any)
	if status != http.StatusBadRequest || out["resourceType"] != "OperationOutcome" || len(issue) == 0 {
		t.Fatalf("transaction: %d %v; want 400 with an OperationOutcome", status, out)
	}
	first := issue[0].(map[string]any)
	if first["code"] != "not-supported" || !strings.Contains(first["diagnostics"].(string), "--mongo-non-atomic-transactions") {
		t.Errorf("the refusal's issue %v does not say what is not supported and how to allow it", first)
	}
	if n := countPatients(t, base); n != 0 {
		t.Fatalf("the refused transaction wrote %v patients", n)
	}
	if status, out := post(t, base, twoPatients("batch")); status != http.StatusOK {
		t.Fatalf("batch: %d %v", status, out)
	}
	if n := countPatients(t, base); n != 2 {
		t.Fatalf("after the batch: %v patients, want 2", n)
	}

	t.Run("accepted", func(t *testing.T) {
		base := servertest.Start(t, server.Config{Auth: "off", NoWorkflow: true, Store: ferretStore(t), MongoNonAtomicTransactions: true})
		if status, out := post(t, base, twoPatients("transaction")); status != http.StatusOK {
			t.Fatalf("transaction with non-atomic transactions accepted: %d %v", status, out)
		}
		if n := countPatients(t, base); n != 2 {
			t.Fatalf("after the transaction: %v patients, want 2", n)
		}
	})
}

// TestStoreURI: a store that is not a MongoDB URI is refused, naming it
// without its password.
func TestStoreURI(t *testing.T) {
	_, err := server.Open(t.Context(), server.Config{Auth: "off", DataDir: t.TempDir(), Store: "postgres://u:secret@db/x"})
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "mongodb://") {
		t.Fatalf("Open with a postgres URI = %v; want a refusal naming mongodb:// and not the password", err)
	}
}
