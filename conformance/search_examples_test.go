package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/sharedspec"
)

// TestSearchFindsEveryExample stores every official R4 example, then for
// each example and each search parameter of its type that extracts at least
// one value from it, searches by one of those values (in the syntax of the
// parameter's type; for references to a stored resource also by a chain)
// and checks the example is among the results.
func TestSearchFindsEveryExample(t *testing.T) {
	examples := sharedspec.Examples(t)
	invalid := sharedspec.KnownInvalid(t)
	base := target(t)
	ix := search.NewIndexer(search.Default(), base)

	stored := map[string]bool{}
	for _, ex := range examples {
		if _, bad := invalid[ex.Name]; bad || !clientWritable(ex.Name) {
			continue
		}
		if strings.HasPrefix(ex.Name, "AuditEvent/") {
			continue // only the server writes the audit trail (405 to clients)
		}
		if r := do(t, http.MethodPut, base+"/"+ex.Name, ex.Body); r.status >= 300 {
			t.Fatalf("PUT %s: %d %s", ex.Name, r.status, r.body)
		}
		stored[ex.Name] = true
	}

	type check struct{ name, query, what string }
	var checks []check
	skipped := map[string]int{}
	for _, ex := range examples {
		if !stored[ex.Name] {
			continue
		}
		doc := decodeUseNumber(t, ex.Body)
		entries, err := ix.Entries(doc)
		if err != nil {
			t.Fatalf("%s: %v", ex.Name, err)
		}
		typ := ex.Name[:strings.IndexByte(ex.Name, '/')]
		first := map[string]bool{}
		for _, e := range entries {
			if first[e.Param] {
				continue
			}
			q, ok := queryFor(e)
			if !ok {
				skipped[string(e.Kind)]++
				continue
			}
			first[e.Param] = true
			checks = append(checks, check{ex.Name, typ + "?" + q, e.Param})
			if e.Kind == search.Reference && e.RefType != "" && stored[e.RefType+"/"+e.RefID] {
				checks = append(checks, check{ex.Name, fmt.Sprintf("%s?%s:%s._id=%s", typ, e.Param, e.RefType, url.QueryEscape(e.RefID)), e.Param + " (chain)"})
			}
		}
	}

	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
		work     = make(chan check)
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if msg := findsIn(t, base, c.name, c.query); msg != "" {
					mu.Lock()
					failures = append(failures, c.what+": "+msg)
					mu.Unlock()
				}
			}
		}()
	}
	start := time.Now()
	for _, c := range checks {
		work <- c
	}
	close(work)
	wg.Wait()
	sort.Strings(failures)
	for i, f := range failures {
		if i < 200 {
			t.Error(f)
		}
	}
	t.Logf("%d examples stored; %d (resource, parameter) searches checked in %s, %d failed; entries with no value a search can name (text-only codes in composites, codes without text), by kind: %v",
		len(stored), len(checks), time.Since(start).Round(time.Millisecond), len(failures), skipped)
}

// findsIn runs the search, following next links, and reports "" when name
// is among the matches.
func findsIn(t *testing.T, base, name, query string) string {
	next := base + "/" + query + "&_count=200&_elements=id"
	for pages := 0; next != "" && pages < 50; pages++ {
		r := do(t, http.MethodGet, next, nil)
		if r.status != http.StatusOK {
			return fmt.Sprintf("%s: %d %.300s", query, r.status, r.body)
		}
		b := decodeBundle(t, r.body)
		for _, e := range b.Entry {
			if strings.HasSuffix(e.FullURL, "/"+name) {
				return ""
			}
		}
		next = b.link("next")
	}
	return query + " did not find " + name
}

// queryFor renders an index entry as a search parameter and value that
// must match it.
func queryFor(e search.Entry) (string, bool) {
	if e.Kind == search.Composite {
		vals := make([]string, len(e.Parts))
		for i, part := range e.Parts {
			mod, v, ok := valueFor(part)
			if !ok || mod != "" { // a part has no modifier: a text-only code cannot be asked for
				return "", false
			}
			vals[i] = v
		}
		return e.Param + "=" + url.QueryEscape(strings.Join(vals, "$")), true
	}
	mod, v, ok := valueFor(e)
	if !ok {
		return "", false
	}
	return e.Param + mod + "=" + url.QueryEscape(v), true
}

// valueFor renders one entry's value in the syntax of its type, with the
// modifier it needs ("" or ":identifier", ":text").
func valueFor(e search.Entry) (modifier, value string, ok bool) {
	esc := func(s string) string {
		return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`).Replace(s)
	}
	switch e.Kind {
	case search.Token:
		if e.Code == "" && e.Text != "" {
			return ":text", esc(e.Text), true
		}
		if e.Code == "" {
			return "", "", false
		}
		return "", esc(e.System) + "|" + esc(e.Code), true
	case search.String:
		if e.Exact == "" {
			return "", "", false
		}
		return "", esc(e.Exact), true
	case search.Date:
		if e.Lo == math.MinInt64 {
			return "", "le" + time.UnixMicro(e.Hi-1).UTC().Format(time.RFC3339), true
		}
		return "", "ge" + time.UnixMicro(e.Lo).UTC().Truncate(time.Second).Format(time.RFC3339), true
	// ge matches both a plain value (its precision range is "within") and
	// a Range, whose high end lies above the search value.
	case search.Number:
		return "", "ge" + strconv.FormatFloat(e.Num, 'g', -1, 64), true
	case search.Quantity:
		v := "ge" + strconv.FormatFloat(e.Num, 'g', -1, 64)
		if e.System != "" && e.Code != "" {
			v += "|" + esc(e.System) + "|" + esc(e.Code)
		}
		return "", v, true
	case search.Reference:
		switch {
		case e.RefType != "":
			return "", e.RefType + "/" + e.RefID, true
		case e.URL != "" && e.Version != "":
			return "", esc(e.URL) + "|" + esc(e.Version), true
		case e.URL != "":
			return "", esc(e.URL), true
		case e.Code != "":
			return ":identifier", esc(e.System) + "|" + esc(e.Code), true
		}
	case search.URI:
		return "", esc(e.URL), true
	}
	return "", "", false
}

func decodeUseNumber(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
