package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/telederm/telederm/internal/synth"
)

// Dataset is what the read, search and mixed scenarios ask for: ids and
// the values searched on, in a fixed order (the order the Bundles were
// generated, or the server's _id order when discovered), so a seed picks
// the same requests on every run over the same data.
type Dataset struct {
	Patients     []Patient
	Referrals    []Referral
	Observations []string // ids
}

// Patient is a Patient's id and the values the searches use.
type Patient struct {
	ID, NHSNumber, Family, Given string
}

// Referral is a ServiceRequest with its subject.
type Referral struct {
	ID, PatientID, NHSNumber string
	Authored                 string // date part of authoredOn, YYYY-MM-DD
}

func (d *Dataset) empty() bool {
	return len(d.Patients) == 0 && len(d.Referrals) == 0 && len(d.Observations) == 0
}

// LoadStats is how loading went.
type LoadStats struct {
	Resources       int     `json:"resources"`
	Bundles         int     `json:"bundles"`
	Seconds         float64 `json:"seconds"`
	ResourcesPerSec float64 `json:"resources_per_sec"`
}

const nhsSystem = "https://fhir.nhs.uk/Id/nhs-number"

// load posts transaction Bundles from synth.New(seed), alternating
// referral and clinical records, until about n resources are stored, with
// `workers` Bundles in flight, and returns the ids the server gave them.
// Any failure stops it: the scenarios need the data.
func load(ctx context.Context, c *client, base string, n, workers int, seed uint64, progress io.Writer) (*Dataset, LoadStats, error) {
	type job struct {
		i    int
		body []byte
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan job, workers)
	var (
		mu      sync.Mutex
		results = map[int]*Dataset{}
		stats   LoadStats
	)
	start := time.Now()
	go func() {
		defer close(jobs)
		g := synth.New(seed)
		for i, total := 0, 0; total < n; i++ {
			kind := synth.Kinds()[i%len(synth.Kinds())]
			b := g.IngestBundle(kind)
			total += countEntries(b)
			select {
			case jobs <- job{i, b}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				req := Request{Method: "POST", Body: j.body}
				resp, err := c.get(ctx, base, req)
				if err != nil {
					cancel(fmt.Errorf("load bundle %d: %w", j.i, err))
					return
				}
				d, entries, err := fromTransaction(j.body, resp)
				if err != nil {
					cancel(fmt.Errorf("load bundle %d: %w", j.i, err))
					return
				}
				mu.Lock()
				results[j.i] = d
				stats.Bundles++
				stats.Resources += entries
				if progress != nil && stats.Bundles%100 == 0 {
					fmt.Fprintf(progress, "load: %s resources\n", thousands(float64(stats.Resources)))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, stats, err
	}
	stats.Seconds = time.Since(start).Seconds()
	stats.ResourcesPerSec = float64(stats.Resources) / stats.Seconds
	d := &Dataset{}
	for i := range len(results) {
		d.Patients = append(d.Patients, results[i].Patients...)
		d.Referrals = append(d.Referrals, results[i].Referrals...)
		d.Observations = append(d.Observations, results[i].Observations...)
	}
	return d, stats, nil
}

// countEntries is the number of entries of a Bundle.
func countEntries(bundle []byte) int {
	var b struct {
		Entry []struct{} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return 0
	}
	return len(b.Entry)
}

// entryResource is what the scenarios read of a resource.
type entryResource struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Identifier   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Name       json.RawMessage `json:"name"` // a HumanName list on Patient, a string elsewhere
	AuthoredOn string          `json:"authoredOn"`
	Subject    struct {
		Reference string `json:"reference"`
	} `json:"subject"`
}

func (r *entryResource) patient(id string) Patient {
	p := Patient{ID: id}
	for _, ident := range r.Identifier {
		if ident.System == nhsSystem {
			p.NHSNumber = ident.Value
		}
	}
	var names []struct {
		Family string   `json:"family"`
		Given  []string `json:"given"`
	}
	if json.Unmarshal(r.Name, &names) == nil && len(names) > 0 {
		p.Family = names[0].Family
		if len(names[0].Given) > 0 {
			p.Given = names[0].Given[0]
		}
	}
	return p
}

func (r *entryResource) referral(id, patientID string) Referral {
	return Referral{ID: id, PatientID: patientID, Authored: r.AuthoredOn[:min(len(r.AuthoredOn), 10)]}
}

// fromTransaction pairs the entries of a transaction Bundle we sent with
// its transaction-response (same order, per the spec) to learn the ids
// the server gave each resource.
func fromTransaction(sent, got []byte) (*Dataset, int, error) {
	var req struct {
		Entry []struct {
			FullURL  string        `json:"fullUrl"`
			Resource entryResource `json:"resource"`
		} `json:"entry"`
	}
	var resp struct {
		Type  string `json:"type"`
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(sent, &req); err != nil {
		return nil, 0, err
	}
	if err := json.Unmarshal(got, &resp); err != nil {
		return nil, 0, fmt.Errorf("transaction-response: %w", err)
	}
	if resp.Type != "transaction-response" || len(resp.Entry) != len(req.Entry) {
		return nil, 0, fmt.Errorf("want a transaction-response of %d entries, got a %q of %d", len(req.Entry), resp.Type, len(resp.Entry))
	}
	ids := map[string]string{} // fullUrl -> "Type/id"
	patients := map[string]Patient{}
	for i, e := range req.Entry {
		typ, id, ok := parseLocation(resp.Entry[i].Response.Location)
		if !ok || typ != e.Resource.ResourceType {
			return nil, 0, fmt.Errorf("entry %d: location %q is not a %s", i, resp.Entry[i].Response.Location, e.Resource.ResourceType)
		}
		ids[e.FullURL] = typ + "/" + id
	}
	d := &Dataset{}
	for i, e := range req.Entry {
		_, id, _ := parseLocation(resp.Entry[i].Response.Location)
		switch e.Resource.ResourceType {
		case "Patient":
			p := e.Resource.patient(id)
			patients[id] = p
			d.Patients = append(d.Patients, p)
		case "Observation":
			d.Observations = append(d.Observations, id)
		}
	}
	for i, e := range req.Entry {
		if e.Resource.ResourceType != "ServiceRequest" {
			continue
		}
		_, id, _ := parseLocation(resp.Entry[i].Response.Location)
		pid := strings.TrimPrefix(ids[e.Resource.Subject.Reference], "Patient/")
		r := e.Resource.referral(id, pid)
		r.NHSNumber = patients[pid].NHSNumber
		d.Referrals = append(d.Referrals, r)
	}
	return d, len(req.Entry), nil
}

// parseLocation reads "[base/]Type/id[/_history/n]".
func parseLocation(loc string) (typ, id string, ok bool) {
	if h := strings.Index(loc, "/_history/"); h >= 0 {
		loc = loc[:h]
	}
	parts := strings.Split(loc, "/")
	if len(parts) < 2 || parts[len(parts)-1] == "" {
		return "", "", false
	}
	return parts[len(parts)-2], parts[len(parts)-1], true
}

// discoveryCount is how many of each kind discover asks for; enough for
// the request mix not to sit on a handful of cached rows.
const discoveryCount = 1000

// discover finds ids on a server that already holds data, by searching in
// _id order (so the same data gives the same Dataset): referrals with their
// patients, more patients, observations.
func discover(ctx context.Context, c *client, base string) (*Dataset, error) {
	type searchset struct {
		Entry []struct {
			Resource entryResource `json:"resource"`
		} `json:"entry"`
	}
	search := func(path string) (*searchset, error) {
		body, err := c.get(ctx, base, Request{Method: "GET", Path: path})
		if err != nil {
			return nil, err
		}
		var s searchset
		if err := json.Unmarshal(body, &s); err != nil {
			return nil, fmt.Errorf("GET %s: %w", pathOnly(path), err)
		}
		return &s, nil
	}
	n := fmt.Sprint(discoveryCount)
	d := &Dataset{}
	seen := map[string]Patient{}
	addPatient := func(r *entryResource) {
		if _, ok := seen[r.ID]; !ok {
			p := r.patient(r.ID)
			seen[r.ID] = p
			d.Patients = append(d.Patients, p)
		}
	}
	srs, err := search("ServiceRequest?_count=" + n + "&_sort=_id&_include=ServiceRequest:subject")
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	for _, e := range srs.Entry {
		if e.Resource.ResourceType == "Patient" {
			addPatient(&e.Resource)
		}
	}
	for _, e := range srs.Entry {
		r := &e.Resource
		if r.ResourceType != "ServiceRequest" || !strings.HasPrefix(r.Subject.Reference, "Patient/") {
			continue
		}
		pid := strings.TrimPrefix(r.Subject.Reference, "Patient/")
		ref := r.referral(r.ID, pid)
		ref.NHSNumber = seen[pid].NHSNumber
		d.Referrals = append(d.Referrals, ref)
	}
	pts, err := search("Patient?_count=" + n + "&_sort=_id")
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	for _, e := range pts.Entry {
		addPatient(&e.Resource)
	}
	obs, err := search("Observation?_count=" + n + "&_sort=_id&_elements=id")
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	for _, e := range obs.Entry {
		if e.Resource.ResourceType == "Observation" {
			d.Observations = append(d.Observations, e.Resource.ID)
		}
	}
	if d.empty() {
		return nil, errors.New("discover: the server holds no Patient, ServiceRequest or Observation; load some with --load N")
	}
	return d, nil
}
