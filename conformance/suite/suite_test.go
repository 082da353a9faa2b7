package suite

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSuiteAgainstTelederm runs every embedded TestScript against a fresh
// Telederm: this is how `make test` (and CI) runs the conformance suite.
func TestSuiteAgainstTelederm(t *testing.T) {
	scripts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	base := startTelederm(t, nil)
	rep := Run(t.Context(), Options{Base: base}, scripts)
	var table bytes.Buffer
	rep.WriteTable(&table)
	t.Logf("\n%s", table.String())
	for _, s := range rep.Scripts {
		if s.Setup != nil && s.Setup.Status != Pass {
			t.Errorf("%s setup: %s %s", s.ID, s.Setup.Status, s.Setup.Message)
		}
		for _, tr := range s.Tests {
			if tr.Status == Fail || tr.Status == Error {
				t.Errorf("%s/%s failed: %s", s.ID, tr.ID, tr.Message)
			}
		}
	}
}

// breakRule wraps a server so that, on the requests match selects, fix
// edits the response headers before they are sent.
func breakRule(match func(*http.Request) bool, fix func(http.Header)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(r) {
				w = &headerEditor{ResponseWriter: w, fix: fix}
			}
			next.ServeHTTP(w, r)
		})
	}
}

type headerEditor struct {
	http.ResponseWriter
	fix  func(http.Header)
	done bool
}

func (h *headerEditor) WriteHeader(code int) {
	if !h.done {
		h.done = true
		h.fix(h.Header())
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerEditor) Write(b []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

// isTypeCreate is POST [base]/[type].
func isTypeCreate(r *http.Request) bool {
	p := strings.Trim(r.URL.Path, "/")
	return r.Method == http.MethodPost && p != "" && !strings.Contains(p, "/") && !strings.HasPrefix(p, "$")
}

// TestSuiteAgainstBrokenServer runs the suite against test doubles: Telederm
// with one rule broken on purpose. Exactly the test about that rule must
// fail, saying what it expected and what came back.
func TestSuiteAgainstBrokenServer(t *testing.T) {
	scripts, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		wrap     func(http.Handler) http.Handler
		failing  string // script/test
		expected []string
	}{
		{
			name:     "no ETag on create",
			wrap:     breakRule(isTypeCreate, func(h http.Header) { h.Del("ETag") }),
			failing:  "create-read/create-etag",
			expected: []string{`header ETag: expected "W/\"1\"", got nothing`},
		},
		{
			name: "Location without the version on create",
			wrap: breakRule(isTypeCreate, func(h http.Header) {
				if loc, _, ok := strings.Cut(h.Get("Location"), "/_history/"); ok {
					h.Set("Location", loc)
				}
			}),
			failing:  "create-read/create-location",
			expected: []string{`header Location: expected to contain "/_history/1", got "http://`},
		},
		{
			name: "no next link when paging searches",
			wrap: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method != http.MethodGet || !strings.Contains(r.URL.RawQuery, "_count=1") || strings.Contains(r.URL.Path, "_history") {
						next.ServeHTTP(w, r)
						return
					}
					rec := httptest.NewRecorder()
					next.ServeHTTP(rec, r)
					var b map[string]any
					json.Unmarshal(rec.Body.Bytes(), &b)
					links, _ := b["link"].([]any)
					var kept []any
					for _, l := range links {
						if l.(map[string]any)["relation"] != "next" {
							kept = append(kept, l)
						}
					}
					b["link"] = kept
					out, _ := json.Marshal(b)
					maps.Copy(w.Header(), rec.Header())
					w.Header().Del("Content-Length")
					w.WriteHeader(rec.Code)
					w.Write(out)
				})
			},
			failing:  "search/paging",
			expected: []string{"Bundle.link.where(relation = 'next').url: expected a value, got nothing"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := startTelederm(t, tc.wrap)
			rep := Run(t.Context(), Options{Base: base}, scripts)
			var failed []string
			for _, s := range rep.Scripts {
				if s.Setup != nil && s.Setup.Status != Pass {
					failed = append(failed, s.ID+"/(setup)")
				}
				for _, tr := range s.Tests {
					if tr.Status == Fail || tr.Status == Error {
						failed = append(failed, s.ID+"/"+tr.ID)
					}
				}
			}
			if len(failed) != 1 || failed[0] != tc.failing {
				var table bytes.Buffer
				rep.WriteTable(&table)
				t.Fatalf("failed %v, want exactly [%s]\n%s", failed, tc.failing, table.String())
			}
			script, test, _ := strings.Cut(tc.failing, "/")
			msg := rep.Test(script, test).Message
			for _, want := range tc.expected {
				if !strings.Contains(msg, want) {
					t.Errorf("failure message %q does not say %q", msg, want)
				}
			}
			t.Logf("%s: %s", tc.failing, msg)
			if !rep.Failed() {
				t.Error("report does not say it failed")
			}
		})
	}
}
