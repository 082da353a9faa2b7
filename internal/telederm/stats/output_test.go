package stats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

// TestParameters: the Parameters of the base region are valid R4 and
// carry every documented name with the computed values.
func TestParameters(t *testing.T) {
	r := Compute(baseInput(), workdays.Default(), Query{From: mon.Add(-day), To: mon.Add(day), Practice: "Organization/a"})
	raw := r.Parameters()
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	if _, o := codec.Parse(raw); o != nil {
		t.Fatalf("not valid R4: %s\n%s", o.Error(), raw)
	}
	var p struct {
		Parameter []map[string]any `json:"parameter"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	byName := map[string]map[string]any{}
	for _, x := range p.Parameter {
		names[x["name"].(string)]++
		byName[x["name"].(string)] = x
	}
	want := map[string]int{"start": 1, "end": 1, "practice": 1, "submitted": 1, "answered": 1, "cancelled": 1, "open": 1,
		"outcome": 5, "answered-within": 3, "turnaround-working-days": 1, "turnaround-hours": 1,
		"fast-track": 1, "override": 1, "more-information": 1, "practice-volume": 1}
	for n, c := range want {
		if names[n] != c {
			t.Errorf("%d parameters named %s, want %d", names[n], n, c)
		}
	}
	if byName["submitted"]["valueInteger"] != 2.0 || get(byName["practice"], "valueReference", "reference") != "Organization/a" {
		t.Errorf("submitted %v, practice %v", byName["submitted"], byName["practice"])
	}
	if s := string(mustJSON(t, byName["turnaround-hours"])); !strings.Contains(s, `"valueDecimal":3.00`) && !strings.Contains(s, `"valueDecimal":3`) {
		t.Errorf("turnaround-hours %s, want median 3", s)
	}
	if !bytes.Contains(raw, []byte(`"valueDecimal":0.5000`)) {
		t.Errorf("shares are not written with four places: %s", raw)
	}
}

func TestCSV(t *testing.T) {
	r := Compute(baseInput(), workdays.Default(), Query{})
	sections := strings.Split(string(r.CSV()), "\n\n")
	if len(sections) != 2 {
		t.Fatalf("%d sections, want 2:\n%s", len(sections), r.CSV())
	}
	metrics, err := csv.NewReader(strings.NewReader(sections[0])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range metrics[1:] {
		if len(row) != 2 {
			t.Fatalf("metric row %v", row)
		}
		got[row[0]] = row[1]
	}
	for k, v := range map[string]string{
		"submitted": "4", "answered": "3", "open": "1", "outcome.advice-only.count": "1", "outcome.advice-only.share": "0.3333",
		"answered-within.3.share": "0.6667", "turnaround.working-days.median": "1", "turnaround.working-days.p85": "4",
		"turnaround.hours.p85": "96.00", "fast-track.rate": "0.5000", "override.count": "1", "more-information.rate": "0.0000",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	practices, err := csv.NewReader(strings.NewReader(sections[1])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"practice", "submitted", "answered", "cancelled", "open", "fast-track"},
		{"Organization/a", "2", "2", "0", "0", "1"},
		{"Organization/b", "1", "1", "0", "0", "1"},
		{"Organization/c", "1", "0", "0", "1", "0"},
	}
	if len(practices) != len(want) {
		t.Fatalf("practice section %v", practices)
	}
	for i := range want {
		if strings.Join(practices[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("practice row %d = %v, want %v", i, practices[i], want[i])
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
