package sqlite

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir/jsontree"
	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// idx_composite.parts leaves empty fields out (storedPart); rows written
// before that hold the JSON of every search.Entry field. Both layouts must
// answer composite searches alike.
func TestCompositePartsLayouts(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	idx := search.NewIndexer(search.Default(), "")
	obs := func(id, code, value, unit string) store.Change {
		body := `{"resourceType":"Observation","id":"` + id + `","status":"final",
			"code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},
			"valueQuantity":{"value":` + value + `,"unit":"` + unit + `","system":"http://unitsofmeasure.org","code":"` + unit + `"}}`
		doc, err := jsontree.Decode([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		entries, err := idx.Entries(doc)
		if err != nil {
			t.Fatal(err)
		}
		return store.Change{Type: "Observation", ID: id, Version: 1, Method: store.MethodCreate, Body: []byte(body), Index: entries}
	}
	changes := []store.Change{
		obs("height", "8302-2", "172", "cm"),
		obs("small", "8302-2", "0", "cm"),
		obs("weight", "29463-7", "70.5", "kg"),
	}
	if err := s.Commit(t.Context(), changes); err != nil {
		t.Fatal(err)
	}
	searches := []struct {
		query string
		want  []string
	}{
		{"code-value-quantity=http://loinc.org|8302-2$gt100", []string{"height"}},
		{"code-value-quantity=8302-2$0", []string{"small"}},
		{"code-value-quantity=8302-2$lt1|http://unitsofmeasure.org|cm", []string{"small"}},
		{"code-value-quantity=29463-7$70.5|http://unitsofmeasure.org|kg", []string{"weight"}},
		{"code-value-quantity=29463-7$70.5||cm", nil},
		{"combo-code-value-quantity=8302-2$ge0", []string{"height", "small"}},
	}
	run := func(layout string) {
		for _, sc := range searches {
			params, err := url.ParseQuery(sc.query)
			if err != nil {
				t.Fatal(err)
			}
			q, o := search.Parse(search.Default(), "Observation", params, search.ParseOptions{Strict: true})
			if o != nil && o.HasErrors() {
				t.Fatalf("%s: %s", sc.query, o.Error())
			}
			page, err := s.Search(t.Context(), q)
			if err != nil {
				t.Fatalf("%s, %s: %v", layout, sc.query, err)
			}
			var got []string
			for _, m := range page.Matches {
				got = append(got, m.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, sc.want) {
				t.Errorf("%s, %s: got %v, want %v", layout, sc.query, got, sc.want)
			}
		}
	}

	var stored string
	if err := s.r.QueryRowContext(t.Context(), `SELECT parts FROM idx_composite LIMIT 1`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, `"Param"`) || strings.Contains(stored, `"RefID"`) {
		t.Errorf("parts keep empty fields: %s", stored)
	}
	run("compact parts")

	// The layout of earlier versions: every field of every part.
	for _, c := range changes {
		keep := storedEntries(c.Type, c.Index)
		for i, e := range c.Index {
			if e.Kind != search.Composite || !keep.has(i) {
				continue // combo-code-value-quantity's pair is code-value-quantity's row
			}
			full, err := json.Marshal(e.Parts)
			if err != nil {
				t.Fatal(err)
			}
			compact, err := json.Marshal(storedParts(e.Parts))
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.w.ExecContext(t.Context(), `UPDATE idx_composite SET parts = ? WHERE param = ? AND parts = ?`,
				string(full), e.Param, string(compact))
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%s of %s: rewrote %d rows, want 1", e.Param, c.ID, n)
			}
		}
	}
	run("full parts")
}
