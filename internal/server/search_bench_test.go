package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// The search benchmarks run on a region-sized store: 100,000 resources
// (20,000 Patients with their GP practices, 20,000 ServiceRequests, 60,000
// Observations), generated from a fixed seed and loaded once per process.
// TELEDERM_BENCH_N changes the size.
var corpus = sync.OnceValues(func() (string, error) { return buildCorpus() })

// corpusDir is the corpus directory once built, removed when the run ends.
var corpusDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if corpusDir != "" {
		_ = os.RemoveAll(corpusDir)
	}
	os.Exit(code)
}

const (
	practices  = 40
	nhsSystem  = "https://fhir.nhs.uk/Id/nhs-number"
	odsSystem  = "https://fhir.nhs.uk/Id/ods-organization-code"
	benchTotal = 100_000
)

func corpusSize() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("TELEDERM_BENCH_N"), &n); err == nil && n > 0 {
		return n
	}
	return benchTotal
}

// buildCorpus writes the data set through the HTTP API of a server on a
// fresh directory and leaves the directory for the benchmarks to reopen.
func buildCorpus() (string, error) {
	dir, err := os.MkdirTemp("", "telederm-bench-")
	if err != nil {
		return "", err
	}
	corpusDir = dir
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := Open(context.Background(), Config{DataDir: dir, BaseURL: base, Auth: "off", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", err
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	defer func() { ts.Close(); _ = app.Close() }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	patients := corpusSize() / 5
	type job struct {
		path string
		body []byte
	}
	jobs := make(chan job, 64)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				path := j.path
				req, _ := http.NewRequest(http.MethodPut, base+path, bytesReader(j.body))
				req.Header.Set("Content-Type", "application/fhir+json")
				resp, err := client.Do(req)
				if err == nil {
					msg, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode >= 300 {
						err = fmt.Errorf("PUT %s: %d %s", path, resp.StatusCode, msg)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	put := func(path string, body []byte) { jobs <- job{path, body} }
	rng := rand.New(rand.NewPCG(2026, 11))
	for o := range practices {
		put(fmt.Sprintf("/Organization/gp%d", o), fmt.Appendf(nil,
			`{"resourceType":"Organization","id":"gp%d","identifier":[{"system":%q,"value":"D%05d"}],"name":"Practice %d"}`, o, odsSystem, o, o))
	}
	families := []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson"}
	for i := range patients {
		birth := time.Date(1930+rng.IntN(90), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		put(fmt.Sprintf("/Patient/p%d", i), fmt.Appendf(nil,
			`{"resourceType":"Patient","id":"p%d","identifier":[{"system":%q,"value":%q}],"name":[{"family":"%s%d","given":["Pat"]}],"gender":%q,"birthDate":%q,"generalPractitioner":[{"reference":"Organization/gp%d"}]}`,
			i, nhsSystem, nhsNumber(i), families[i%len(families)], i%500, []string{"male", "female"}[i%2], birth.Format("2006-01-02"), i%practices))
		day := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(365*24)) * time.Hour)
		put(fmt.Sprintf("/ServiceRequest/sr%d", i), fmt.Appendf(nil,
			`{"resourceType":"ServiceRequest","id":"sr%d","status":"active","intent":"order","priority":%q,"code":{"coding":[{"system":"http://snomed.info/sct","code":"700241009"}]},"subject":{"reference":"Patient/p%d"},"authoredOn":%q}`,
			i, []string{"routine", "urgent"}[rng.IntN(2)], i, day.Format(time.RFC3339)))
		for k := range 3 {
			put(fmt.Sprintf("/Observation/o%d-%d", i, k), fmt.Appendf(nil,
				`{"resourceType":"Observation","id":"o%d-%d","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},"subject":{"reference":"Patient/p%d"},"effectiveDateTime":%q,"valueQuantity":{"value":%d.%d,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}`,
				i, k, i, day.Add(time.Duration(k)*time.Hour).Format(time.RFC3339), 120+rng.IntN(80), rng.IntN(10)))
		}
	}
	close(jobs)
	wg.Wait()
	return dir, firstErr
}

// nhsNumber makes a valid NHS number (modulus 11 check digit) from i.
func nhsNumber(i int) string {
	for n := 900000000 + i*7; ; n++ {
		d := fmt.Sprintf("%09d", n)
		sum := 0
		for k := 0; k < 9; k++ {
			sum += int(d[k]-'0') * (10 - k)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check != 10 {
			return d + fmt.Sprint(check)
		}
	}
}

// BenchmarkSearch100k runs each search shape against the corpus and reports
// the median and 99th percentile latency per request over HTTP.
func BenchmarkSearch100k(b *testing.B) {
	dir, err := corpus()
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	app, err := Open(context.Background(), Config{DataDir: dir, BaseURL: base, Auth: "off", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = app.Handler()
	ts.Start()
	b.Cleanup(func() { ts.Close(); _ = app.Close() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	patients := corpusSize() / 5
	shapes := []struct {
		name  string
		query func(r *rand.Rand) string
	}{
		{"token", func(r *rand.Rand) string {
			return "Patient?identifier=" + url.QueryEscape(nhsSystem+"|"+nhsNumber(r.IntN(patients)))
		}},
		{"string-prefix", func(r *rand.Rand) string { return fmt.Sprintf("Patient?family=Patel%d", r.IntN(500)) }},
		{"date-range", func(r *rand.Rand) string {
			d := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(360))
			return "ServiceRequest?authored=ge" + d.Format("2006-01-02") + "&authored=lt" + d.AddDate(0, 0, 2).Format("2006-01-02")
		}},
		{"chain-2", func(r *rand.Rand) string {
			return fmt.Sprintf("Observation?subject:Patient.general-practitioner:Organization.identifier=%s|D%05d&_count=20", url.QueryEscape(odsSystem), r.IntN(practices))
		}},
		{"worklist", func(r *rand.Rand) string {
			return "ServiceRequest?status=active&_sort=-authored&_count=20&_include=ServiceRequest:subject"
		}},
		{"revinclude", func(r *rand.Rand) string {
			return fmt.Sprintf("Patient?_id=p%d&_revinclude=ServiceRequest:subject&_revinclude=Observation:subject", r.IntN(patients))
		}},
	}
	for _, sh := range shapes {
		b.Run(sh.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 7))
			var lat []time.Duration
			for b.Loop() {
				q := sh.query(r)
				start := time.Now()
				resp, err := client.Get(base + "/" + q)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", q, resp.StatusCode)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
