package conformance

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/telederm/telederm/internal/sharedspec"
)

// example is one resource to round-trip, with what the server must say.
type example struct {
	name     string // Type/id
	body     []byte
	wantExpr string // non-empty: the example is invalid and the rejection names this element
	reason   string
}

// TestRoundTripProjectExamples PUTs the project's own teledermatology
// resources and reads them back unchanged.
func TestRoundTripProjectExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "fhir", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in testdata/fhir: %v", err)
	}
	var exs []example
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exs = append(exs, newExample(t, b))
	}
	roundTrip(t, target(t), exs)
}

// TestRoundTripOfficialExamples PUTs every official R4 example at its own id
// and reads it back equal to what was sent, apart from meta.versionId and
// meta.lastUpdated. The examples that break R4 rules themselves are listed
// in testdata/r4-examples-invalid.json; each must be rejected naming the
// element at fault.
func TestRoundTripOfficialExamples(t *testing.T) {
	official := sharedspec.Examples(t)
	invalid := sharedspec.KnownInvalid(t)
	exs := make([]example, 0, len(official))
	for _, o := range official {
		if !clientWritable(o.Name) {
			continue
		}
		ex := example{name: o.Name, body: o.Body}
		if inv, ok := invalid[o.Name]; ok {
			ex.wantExpr, ex.reason = inv.Expression, inv.Reason
			delete(invalid, o.Name)
		}
		exs = append(exs, ex)
	}
	for name := range invalid {
		t.Errorf("testdata/r4-examples-invalid.json lists %s, which is not among the examples", name)
	}
	roundTrip(t, target(t), exs)
}

// clientWritable says whether the examples tests may write the resource
// Type/id and expect it back as written: not AuditEvents, which the server
// records itself (its audit trail) and serves read-only, nor
// Subscriptions, whose status the server moves (active after the
// handshake, off once their end is past, and a client may not write
// active or error).
func clientWritable(name string) bool {
	return !strings.HasPrefix(name, "AuditEvent/") && !strings.HasPrefix(name, "Subscription/")
}

func newExample(t *testing.T, b []byte) example {
	t.Helper()
	var head struct{ ResourceType, ID string }
	if err := json.Unmarshal(b, &head); err != nil || head.ResourceType == "" || head.ID == "" {
		t.Fatalf("example without resourceType and id: %.200s", b)
	}
	return example{name: head.ResourceType + "/" + head.ID, body: b}
}

// roundTrip PUTs and GETs every example from a few concurrent clients and
// reports each outcome.
func roundTrip(t *testing.T, base string, exs []example) {
	t.Helper()
	var (
		mu       sync.Mutex
		failures []string
		rejected []string
		ok       int
	)
	work := make(chan example)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ex := range work {
				msg, rej := checkRoundTrip(t, base, ex)
				mu.Lock()
				switch {
				case msg != "":
					failures = append(failures, msg)
				case rej != "":
					rejected = append(rejected, rej)
				default:
					ok++
				}
				mu.Unlock()
			}
		}()
	}
	for _, ex := range exs {
		work <- ex
	}
	close(work)
	wg.Wait()
	sort.Strings(failures)
	sort.Strings(rejected)
	for _, r := range rejected {
		t.Logf("rejected as invalid (expected): %s", r)
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d examples: %d stored and read back equal, %d rejected as listed, %d failures", len(exs), ok, len(rejected), len(failures))
}

// checkRoundTrip returns a failure message, or a rejection note for an
// expected-invalid example; both empty means it round-tripped.
func checkRoundTrip(t *testing.T, base string, ex example) (failure, rejection string) {
	url := base + "/" + ex.name
	put := do(t, http.MethodPut, url, ex.body)
	if strings.HasPrefix(ex.name, "AuditEvent/") {
		// Only the server writes the audit trail: every client write is 405.
		if put.status != http.StatusMethodNotAllowed {
			return ex.name + ": a client PUT of an AuditEvent was answered " + http.StatusText(put.status) + ", want 405", ""
		}
		return "", ex.name + ": refused, the audit trail is written by the server"
	}
	if ex.wantExpr != "" {
		if put.status != http.StatusBadRequest {
			return ex.name + ": invalid example accepted with " + http.StatusText(put.status) + " (" + ex.reason + ")", ""
		}
		if o := decodeOutcome(t, put.body); !o.hasIssue("", ex.wantExpr) {
			return ex.name + ": rejected without naming " + ex.wantExpr + ": " + string(put.body), ""
		}
		if get := do(t, http.MethodGet, url, nil); get.status != http.StatusNotFound {
			return ex.name + ": rejected example was stored anyway", ""
		}
		return "", ex.name + " at " + ex.wantExpr + ": " + ex.reason
	}
	if put.status != http.StatusCreated && put.status != http.StatusOK {
		return ex.name + ": PUT " + http.StatusText(put.status) + ": " + string(put.body), ""
	}
	get := do(t, http.MethodGet, url, nil, "Accept", "application/fhir+json")
	if get.status != http.StatusOK {
		return ex.name + ": GET " + http.StatusText(get.status), ""
	}
	if !sameResource(t, ex.body, get.body) {
		return ex.name + ": read back differs\n sent: " + trunc(ex.body) + "\n  got: " + trunc(get.body), ""
	}
	return "", ""
}

func trunc(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}
