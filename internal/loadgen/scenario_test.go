package loadgen

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/telederm/telederm/internal/synth"
)

// sampleData is a small Dataset of the shape load and discover build.
func sampleData() *Dataset {
	d := &Dataset{}
	for i := range 20 {
		p := Patient{ID: fmt.Sprintf("p%d", i), NHSNumber: fmt.Sprintf("99900000%02d", i), Family: "Smith", Given: "Jane"}
		d.Patients = append(d.Patients, p)
		d.Referrals = append(d.Referrals, Referral{ID: fmt.Sprintf("sr%d", i), PatientID: p.ID, NHSNumber: p.NHSNumber, Authored: "2025-03-04"})
		d.Observations = append(d.Observations, fmt.Sprintf("o%d", i))
	}
	return d
}

// sequence is the first n requests of worker w, as comparable strings.
func sequence(t *testing.T, name string, seed uint64, w, n int) []string {
	t.Helper()
	s, err := newScenario(name, sampleData(), seed)
	if err != nil {
		t.Fatal(err)
	}
	r := workerRand(seed, name, w)
	out := make([]string, n)
	for i := range out {
		req := s.next(r)
		out[i] = fmt.Sprintf("%d %s %s %x %d", req.Kind, req.Method, req.Path, req.Body, req.Resources)
	}
	return out
}

func TestRequestSequenceDeterministic(t *testing.T) {
	for _, name := range Scenarios() {
		t.Run(name, func(t *testing.T) {
			a := sequence(t, name, 42, 0, 200)
			if b := sequence(t, name, 42, 0, 200); strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Fatal("same seed and worker, different requests")
			}
			if c := sequence(t, name, 43, 0, 200); strings.Join(a, "\n") == strings.Join(c, "\n") {
				t.Error("seeds 42 and 43 send the same requests")
			}
			if c := sequence(t, name, 42, 1, 200); strings.Join(a, "\n") == strings.Join(c, "\n") {
				t.Error("workers 0 and 1 send the same requests")
			}
		})
	}
}

// TestKindsHaveDistinctShapes: the ceiling finds responses by shape key,
// so every kind of a scenario must have one shape, not another kind's.
func TestKindsHaveDistinctShapes(t *testing.T) {
	for _, name := range Scenarios() {
		t.Run(name, func(t *testing.T) {
			s, err := newScenario(name, sampleData(), 1)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[int]string{}
			r := workerRand(1, name, 0)
			for range 2000 {
				req := s.next(r)
				k := shapeKey(req.Method, req.Path)
				if prev, ok := keys[req.Kind]; ok && prev != k {
					t.Fatalf("kind %q has shapes %q and %q", s.kinds[req.Kind].name, prev, k)
				}
				keys[req.Kind] = k
			}
			if len(keys) != len(s.kinds) {
				t.Fatalf("saw %d of %d kinds in 2000 requests", len(keys), len(s.kinds))
			}
			seen := map[string]string{}
			for i, k := range keys {
				if other, dup := seen[k]; dup && name != Ingest { // ingest's kinds differ by body only, and replay alike
					t.Errorf("kinds %q and %q share the shape %q", other, s.kinds[i].name, k)
				}
				seen[k] = s.kinds[i].name
			}
		})
	}
}

func TestShapeKey(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"GET", "Patient/abc", "GET Patient/{id}"},
		{"GET", "/Patient/abc", "GET Patient/{id}"},
		{"POST", "", "POST /"},
		{"POST", "/", "POST /"},
		{"POST", "DiagnosticReport", "POST DiagnosticReport"},
		{"GET", "Patient?identifier=x%7Cy", "GET Patient?identifier"},
		{"GET", "ServiceRequest?status=active&_sort=-authored&_count=20", "GET ServiceRequest?_count&_sort&status"},
		{"GET", "ServiceRequest?authored=ge2025&authored=lt2026", "GET ServiceRequest?authored&authored"},
	}
	for _, tt := range tests {
		if got := shapeKey(tt.method, tt.path); got != tt.want {
			t.Errorf("shapeKey(%s, %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestScenarioNeedsData(t *testing.T) {
	for _, name := range []string{Read, Search} {
		if _, err := newScenario(name, &Dataset{}, 1); err == nil || !strings.Contains(err.Error(), "--load") {
			t.Errorf("%s on no data: err %v, want one that suggests --load", name, err)
		}
	}
	// Ingest needs nothing; mixed can still submit referrals and poll.
	for _, name := range []string{Ingest, Mixed} {
		if _, err := newScenario(name, &Dataset{}, 1); err != nil {
			t.Errorf("%s on no data: %v", name, err)
		}
	}
	if _, err := newScenario("write", sampleData(), 1); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestIngestBundlesDiffer(t *testing.T) {
	// The ingest pool must not repeat the Bundles --load sends for the
	// same seed, and its kinds must not share one generator stream.
	s, err := newScenario(Ingest, nil, 2026)
	if err != nil {
		t.Fatal(err)
	}
	r := workerRand(2026, Ingest, 0)
	first := map[int][]byte{}
	for range 100 {
		req := s.next(r)
		if req.Resources < 90 || req.Method != "POST" || req.Path != "" {
			t.Fatalf("ingest request %s %q with %d resources", req.Method, req.Path, req.Resources)
		}
		if _, ok := first[req.Kind]; !ok {
			first[req.Kind] = req.Body
		}
	}
	if len(first) != 2 || bytes.Equal(first[0], first[1]) {
		t.Fatal("want two kinds of ingest Bundle")
	}
	loaded := synth.New(2026)
	for _, kind := range synth.Kinds() {
		b := loaded.IngestBundle(kind)
		for _, sent := range first {
			if bytes.Equal(b, sent) {
				t.Fatalf("ingest re-sends the %s Bundle --load sent for the seed", kind)
			}
		}
	}
}
