package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/audit/auditstore"
)

// BenchmarkRecord: events/s through Record to committed rows, from
// parallel callers, with a read-sized event (one entity, a patient in
// context, a full identity). Waits are the Record calls that found the
// queue full: back-pressure the request path would feel.
//
//	go test ./internal/audit -run '^$' -bench Record -count 6
func BenchmarkRecord(b *testing.B) {
	for _, queue := range []int{8192, 256} {
		b.Run(fmt.Sprintf("Queue%d", queue), func(b *testing.B) {
			tr := openTrail(b, Options{QueueSize: queue})
			e := Event{Time: time.Now(), Action: "read", Method: "GET", Route: "/{type}/{id}", Type: "Patient", Status: 200,
				ClientID: "gp-app", Subject: "u-17", FHIRUser: "Practitioner/dr1", Patient: "p1", Source: "10.1.2.3",
				RequestID: "0123456789abcdef", Entities: []string{"Patient/p1"}}
			ctx := context.Background()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					tr.Record(ctx, e)
				}
			})
			flush(b, tr)
			b.StopTimer()
			st := tr.Stats()
			b.ReportMetric(float64(st.Written)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(st.Waited)/float64(max(st.Queued, 1)), "waits/event")
			if st.Batches > 0 {
				b.ReportMetric(float64(st.Written)/float64(st.Batches), "events/batch")
			}
		})
	}
}

// BenchmarkWrite: the SQLite store's writer alone, per event, committing batches of a
// given size (a quiet server writes batches of tens, a saturated one of
// MaxBatch) of events shaped like production's: one of 50 users, one of
// 5,000 resources, one of 500 patients in context; folds into ix included.
//
//	go test ./internal/audit -run '^$' -bench Write -count 6
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{40, 200, 1000} {
		b.Run(fmt.Sprintf("Batch%d", n), func(b *testing.B) {
			tr := openSQLiteTrailIn(b, b.TempDir(), Options{})
			st := tr.store.(*sqliteStore)
			rows := make([]auditstore.Row, n)
			events := make([]Event, 5000)
			for k := range events {
				events[k] = Event{Action: "read", Type: "Observation", Status: 200, ClientID: "gp-app",
					Subject: fmt.Sprintf("u-%d", k%50), FHIRUser: fmt.Sprintf("Practitioner/dr%d", k%50),
					Patient: fmt.Sprintf("p%d", k%500), Source: "10.1.2.3", RequestID: "0123456789abcdef",
					Entities: []string{fmt.Sprintf("Observation/o%d", k)}}
			}
			batch := make([]item, n)
			k := 0
			b.ResetTimer()
			for b.Loop() {
				now := time.Now()
				for i := range batch {
					batch[i] = item{recorded: now.Add(time.Duration(i)), e: events[k%len(events)]}
					batch[i].e.Time = now
					k++
				}
				for i := range batch {
					rows[i] = newRow(&batch[i], tr.opts.BaseURL)
				}
				if err := st.Append(context.Background(), rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
