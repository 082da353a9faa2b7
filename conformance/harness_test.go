package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/server"
	"github.com/telederm/telederm/internal/server/servertest"
)

// target returns the base URL to test: TELEDERM_BASE_URL when set, else a
// fresh in-process server on loopback with its own data directory.
func target(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("TELEDERM_BASE_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	return startServer(t, server.Config{})
}

// startServer starts an in-process server; cfg.DataDir and cfg.BaseURL are
// filled in. The conformance tests speak FHIR without tokens, so they ask
// for a server with authorization off.
func startServer(t testing.TB, cfg server.Config) string {
	t.Helper()
	cfg.Auth = "off"
	return servertest.Start(t, cfg)
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// reply is an HTTP response read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; headers alternate name, value.
func do(t testing.TB, method, url string, body []byte, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// object decodes a JSON object keeping numbers as their exact text.
func object(t testing.TB, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v: %.200s", err, b)
	}
	return m
}

// referralAccess is the system of the security labels Telederm's workflow
// puts on a referral's resources (who may see them: profiles/README.md).
const referralAccess = "https://telederm.example/fhir/referral-access"

// withoutServerMeta drops meta.versionId and meta.lastUpdated, and the
// referral access labels, which the server owns (and meta itself when
// nothing else is left).
func withoutServerMeta(m map[string]any) map[string]any {
	meta, ok := m["meta"].(map[string]any)
	if !ok {
		return m
	}
	delete(meta, "versionId")
	delete(meta, "lastUpdated")
	if labels, ok := meta["security"].([]any); ok {
		var keep []any
		for _, l := range labels {
			if lm, _ := l.(map[string]any); lm["system"] != referralAccess {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 {
			delete(meta, "security")
		} else {
			meta["security"] = keep
		}
	}
	if len(meta) == 0 {
		delete(m, "meta")
	}
	return m
}

func sameResource(t testing.TB, sent, got []byte) bool {
	t.Helper()
	a, b := withoutServerMeta(object(t, sent)), withoutServerMeta(object(t, got))
	if a["resourceType"] == "Binary" {
		// Binary content is kept as bytes in the blob store and served in
		// canonical base64; whitespace that wrapped the sender's base64
		// lines is not content. Compare the decoded bytes.
		a["data"], b["data"] = decodedBase64(a["data"]), decodedBase64(b["data"])
	}
	return reflect.DeepEqual(a, b)
}

func decodedBase64(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return v
	}
	return string(d)
}

// outcome is the part of an OperationOutcome the tests check.
type outcome struct {
	ResourceType string
	Issue        []struct {
		Severity, Code, Diagnostics string
		Expression                  []string
	}
}

func decodeOutcome(t testing.TB, b []byte) outcome {
	t.Helper()
	var o outcome
	if err := json.Unmarshal(b, &o); err != nil || o.ResourceType != "OperationOutcome" || len(o.Issue) == 0 {
		t.Fatalf("not an OperationOutcome with issues: %.300s", b)
	}
	return o
}

// hasIssue reports whether o has an issue naming expr (and code, if given).
func (o outcome) hasIssue(code, expr string) bool {
	for _, is := range o.Issue {
		if code != "" && is.Code != code {
			continue
		}
		if expr == "" {
			return true
		}
		for _, e := range is.Expression {
			if e == expr {
				return true
			}
		}
	}
	return false
}

// bundleOf decodes the parts of a Bundle the tests check.
type bundleReply struct {
	ResourceType, Type string
	Total              *int
	Link               []struct{ Relation, URL string }
	Entry              []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  struct{ Method, URL string }
		Response struct {
			Status, Etag, LastModified string
		}
	}
}

func decodeBundle(t testing.TB, b []byte) bundleReply {
	t.Helper()
	var br bundleReply
	if err := json.Unmarshal(b, &br); err != nil || br.ResourceType != "Bundle" {
		t.Fatalf("not a Bundle: %.300s", b)
	}
	return br
}

func (b bundleReply) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

// historyCount follows next links and counts every entry of a history.
func historyCount(t testing.TB, url string) int {
	t.Helper()
	n := 0
	for url != "" {
		r := do(t, http.MethodGet, url, nil)
		if r.status == http.StatusNotFound {
			return 0
		}
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %.300s", url, r.status, r.body)
		}
		b := decodeBundle(t, r.body)
		n += len(b.Entry)
		url = b.link("next")
	}
	return n
}

func decodeInto(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode: %v: %.200s", err, b)
	}
}
