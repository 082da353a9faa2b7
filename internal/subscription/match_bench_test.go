package subscription

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// benchManager is a Manager with n live subscriptions made by sub(i),
// filed in its index as the dispatcher files them.
func benchManager(tb testing.TB, n int, sub func(i int) string) *Manager {
	tb.Helper()
	m := New(Config{BaseURL: "http://telederm.test"})
	tb.Cleanup(func() { m.Close() })
	for i := range n {
		spec, issues := m.parseSpec([]byte(sub(i)), 1)
		if len(issues) > 0 {
			tb.Fatalf("subscription %d: %v", i, issues)
		}
		spec.ID = fmt.Sprintf("s%d", i)
		m.index.put(spec)
	}
	return m
}

const benchObservation = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1","lastUpdated":"2026-01-01T00:00:00.000Z"},
	"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
	"code":{"coding":[{"system":"http://loinc.org","code":"c500"}]},"subject":{"reference":"Patient/p500"},
	"effectiveDateTime":"2026-01-01T09:00:00Z","valueQuantity":{"value":5.4,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}`

// matchOnce is the dispatcher's work for one change: index it, find the
// candidates, decide each. It returns how many subscriptions matched.
func matchOnce(tb testing.TB, m *Manager, c store.Committed) int {
	ch := newChange(context.Background(), nil, m.ix, c)
	if err := ch.index(); err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, in := range m.index.candidates(c.Type, ch.entries, nil) {
		ok, err := m.matches(context.Background(), in.spec, ch)
		if err != nil {
			tb.Fatal(err)
		}
		if ok {
			n++
		}
	}
	return n
}

func topicSub(filter string) string {
	return `{"resourceType":"Subscription","meta":{"profile":["http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"]},
		"status":"active","criteria":"http://telederm.test/SubscriptionTopic/Observation-create",
		"_criteria":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria","valueString":"` + filter + `"}]},
		"channel":{"type":"websocket"}}`
}

func criteriaSub(criteria string) string {
	return `{"resourceType":"Subscription","status":"active","criteria":"` + criteria + `","channel":{"type":"websocket"}}`
}

// BenchmarkMatch1000 matches one new Observation against 1,000 live
// subscriptions and reports the median time per change (target: under
// 1 ms). Cases: topic subscriptions filtered by patient and R4 criteria
// by code (filed under a value: the change looks up its own), and
// criteria on a quantity range (filed by type: each one is tested).
func BenchmarkMatch1000(b *testing.B) {
	change := store.Committed{Seq: 1, Version: store.Version{Type: "Observation", ID: "o1", VersionID: 1, Method: store.MethodCreate, Body: []byte(benchObservation)}}
	cases := []struct {
		name string
		sub  func(i int) string
		want int
	}{
		{"topic-filter-patient", func(i int) string { return topicSub(fmt.Sprintf("Observation?patient=Patient/p%d", i)) }, 1},
		{"criteria-code", func(i int) string {
			return criteriaSub(fmt.Sprintf("Observation?code=http://loinc.org|c%d&category=laboratory", i))
		}, 1},
		{"criteria-unindexed-range", func(i int) string { return criteriaSub(fmt.Sprintf("Observation?value-quantity=lt%d", i+1)) }, 995},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := benchManager(b, 1000, c.sub)
			if got := matchOnce(b, m, change); got != c.want {
				b.Fatalf("%d subscriptions matched, want %d", got, c.want)
			}
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				matchOnce(b, m, change)
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds()), "median-µs")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// TestMatchCostStaysFlat: with subscriptions filed under a value, the
// candidates a change draws do not grow with the number of
// subscriptions.
func TestMatchCostStaysFlat(t *testing.T) {
	change := store.Committed{Seq: 1, Version: store.Version{Type: "Observation", ID: "o1", VersionID: 1, Method: store.MethodCreate, Body: []byte(benchObservation)}}
	for _, n := range []int{10, 1000, 10000} {
		m := benchManager(t, n, func(i int) string { return topicSub(fmt.Sprintf("Observation?patient=Patient/p%d", i)) })
		ch := newChange(context.Background(), nil, m.ix, change)
		if err := ch.index(); err != nil {
			t.Fatal(err)
		}
		cands := m.index.candidates("Observation", ch.entries, nil)
		want := 0
		if n > 500 {
			want = 1
		}
		if len(cands) != want {
			t.Errorf("%d subscriptions: %d candidates, want %d", n, len(cands), want)
		}
		if got := matchOnce(t, m, change); got != want {
			t.Errorf("%d subscriptions: %d matched, want %d", n, got, want)
		}
	}
}
