package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHTTPReadByIDAudit is BenchmarkHTTPReadByID with the audit trail
// on (the default) and off: the difference is what auditing every read
// costs. Besides the rate it reports the process's CPU time per request
// (server, client and audit writer together), which a busy shared machine
// disturbs far less than the rate. Compare medians of alternating runs:
//
//	go test -c -o srv.test ./internal/server
//	for i in 1 2 3 4 5 6; do for v in On Off; do
//		./srv.test -test.run '^$' -test.bench "ReadByIDAudit/$v\$" -test.benchtime 3s
//	done; done
func BenchmarkHTTPReadByIDAudit(b *testing.B) {
	b.Run("On", func(b *testing.B) { benchReadAudit(b, false) })
	b.Run("Off", func(b *testing.B) { benchReadAudit(b, true) })
}

func benchReadAudit(b *testing.B, noAudit bool) {
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := Open(context.Background(), Config{DataDir: b.TempDir(), BaseURL: base, Auth: "off", NoAudit: noAudit,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	b.Cleanup(func() { ts.Close(); _ = app.Close() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}

	const n = 1000
	ids := putPatients(b, n, func(path string, body []byte) {
		send(b, client, http.MethodPut, base+path, body, http.StatusCreated)
	})
	var next atomic.Int64
	b.SetParallelism(16)
	cpu0, cpuOK := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % n
			send(b, client, http.MethodGet, base+"/Patient/"+ids[i], nil, http.StatusOK)
		}
	})
	b.StopTimer()
	reportRate(b)
	reportCPU(b, cpu0, cpuOK)
	if t := app.AuditTrail(); t != nil {
		st := t.Stats()
		b.ReportMetric(float64(st.Waited), "waits")
		if st.Batches > 0 {
			b.ReportMetric(float64(st.Written)/float64(st.Batches), "events/batch")
		}
	}
}
