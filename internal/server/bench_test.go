package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
)

// benchPatient is a Patient of the size a GP system sends (about 0.6 KB).
const benchPatient = `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}],"name":[{"use":"official","family":"Smith","given":["Jane","Ann"]}],"gender":"female","birthDate":"1970-01-02","address":[{"line":["1 High St"],"city":"Ipswich","postalCode":"IP1 1AA"}],"telecom":[{"system":"phone","value":"01234 567890"}],"generalPractitioner":[{"reference":"Organization/gp1"}]}`

// benchServer starts a real server on loopback TCP, as a client sees it.
func benchServer(b *testing.B) (string, *http.Client) {
	return benchServerWith(b, nil)
}

// benchServerWith starts a server with a given search registry (nil: R4).
func benchServerWith(b *testing.B, reg *search.Registry) (string, *http.Client) {
	b.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := Open(context.Background(), Config{DataDir: b.TempDir(), BaseURL: base, Auth: "off", Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	b.Cleanup(func() { ts.Close(); _ = app.Close() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 30 * time.Second}
	return base, client
}

func send(b *testing.B, client *http.Client, method, url string, body []byte, want int) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Errorf("%s %s: %d", method, url, resp.StatusCode)
	}
}

// putPatients stores n Patients shaped like benchPatient with ids p0..,
// each through put (path, body), and returns their ids.
func putPatients(b *testing.B, n int, put func(path string, body []byte)) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("p%d", i)
		put("/Patient/"+ids[i], fmt.Appendf(nil, `{"resourceType":"Patient","id":%q,%s`, ids[i], benchPatient[len(`{"resourceType":"Patient",`):]))
	}
	return ids
}

// reportCPU adds the process's CPU time per operation since cpu0 (server
// and client share the process): it compares across a noisy shared
// machine better than the wall-clock rate.
func reportCPU(b *testing.B, cpu0 time.Duration, ok bool) {
	if cpu1, ok1 := processCPU(); ok && ok1 {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
	}
}

// reportRate adds requests per second, the figure the targets are set in.
func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkHTTPReadByID: concurrent clients reading Patients by id over HTTP.
func BenchmarkHTTPReadByID(b *testing.B) {
	base, client := benchServer(b)
	const n = 1000
	ids := putPatients(b, n, func(path string, body []byte) {
		send(b, client, http.MethodPut, base+path, body, http.StatusCreated)
	})
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) % n
			send(b, client, http.MethodGet, base+"/Patient/"+ids[i], nil, http.StatusOK)
		}
	})
	reportRate(b)
}

// BenchmarkHTTPCreate: concurrent clients creating Patient-sized resources,
// with every R4 search parameter indexed (Index) and with none (NoIndex):
// the ratio is the cost of search indexing on writes.
func BenchmarkHTTPCreate(b *testing.B) {
	b.Run("Index", func(b *testing.B) { benchCreate(b, nil) })
	b.Run("NoIndex", func(b *testing.B) { benchCreate(b, search.NewRegistry(nil)) })
}

func benchCreate(b *testing.B, reg *search.Registry) {
	base, client := benchServerWith(b, reg)
	bodies := variedPatients(4096)
	var next atomic.Int64
	b.SetParallelism(8)
	cpu0, cpuOK := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[next.Add(1)%int64(len(bodies))]
			send(b, client, http.MethodPost, base+"/Patient", body, http.StatusCreated)
		}
	})
	b.StopTimer()
	reportRate(b)
	reportCPU(b, cpu0, cpuOK)
}

// variedPatients are n Patients shaped like benchPatient whose values all
// differ (NHS number, names, birth date, address, phone), so their index
// entries land across the index B-trees as real registrations do rather
// than on the same few pages.
func variedPatients(n int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 26))
	families := []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson"}
	given := []string{"Jane", "Ann", "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Noah", "Mia", "Leo", "Ivy", "Arthur", "Grace", "Muhammad", "Freya"}
	cities := []string{"Ipswich", "Leeds", "Norwich", "York", "Bristol", "Derby", "Exeter", "Hull"}
	out := make([][]byte, n)
	for i := range out {
		birth := time.Date(1930+rng.IntN(90), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		out[i] = fmt.Appendf(nil, `{"resourceType":"Patient","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"%d"}],`+
			`"name":[{"use":"official","family":"%s%d","given":[%q,%q]}],"gender":%q,"birthDate":%q,`+
			`"address":[{"line":["%d High St"],"city":%q,"postalCode":"IP%d %dAA"}],"telecom":[{"system":"phone","value":"01234 %06d"}],`+
			`"generalPractitioner":[{"reference":"Organization/gp%d"}]}`,
			9000000000+rng.IntN(999999999), families[rng.IntN(len(families))], rng.IntN(1000), given[rng.IntN(len(given))], given[rng.IntN(len(given))],
			[]string{"male", "female"}[rng.IntN(2)], birth.Format("2006-01-02"), 1+rng.IntN(200), cities[rng.IntN(len(cities))],
			rng.IntN(40), rng.IntN(10), rng.IntN(1000000), rng.IntN(300))
	}
	return out
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
