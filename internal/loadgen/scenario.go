package loadgen

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/telederm/telederm/internal/synth"
)

// The scenarios, in the order Scenarios lists them.
const (
	Ingest = "ingest" // transaction Bundles of about 100 resources POSTed to the base URL
	Read   = "read"   // GET by id: Patients, referrals, Observations
	Search = "search" // token, string, date, chain and include searches
	Mixed  = "mixed"  // a GP-surgery day: referrals in, worklist polls, consultant reads, advice out
)

// Scenarios lists the scenario names Run accepts.
func Scenarios() []string { return []string{Ingest, Read, Search, Mixed} }

// kind is one shape of request in a scenario, drawn with probability
// weight/sum of weights; make builds one from the worker's stream.
type kind struct {
	name   string
	weight int
	make   func(r *rand.Rand) Request
}

// scenario is a request mix over a Dataset. It is read-only once built, so
// every worker shares it; each worker draws from its own rand stream.
type scenario struct {
	name  string
	kinds []kind
	total int // sum of weights
}

// next draws the worker's next request.
func (s *scenario) next(r *rand.Rand) Request {
	w := r.IntN(s.total)
	for i, k := range s.kinds {
		if w < k.weight {
			req := k.make(r)
			req.Kind = i
			return req
		}
		w -= k.weight
	}
	panic("unreachable")
}

// workerRand is worker w's stream for a scenario: a function of the seed,
// the scenario's name and w only, so a run and its ceiling run, or two runs
// with one seed, send the same sequence from each worker.
func workerRand(seed uint64, scenario string, w int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(scenario))
	return rand.New(rand.NewPCG(seed, h.Sum64()^uint64(w)<<32))
}

// Salts that keep the Bundles each scenario sends apart from the loaded
// data and from each other, for one seed.
const (
	ingestSalt = 0x1a6e57
	mixedSalt  = 0x31bed
	poolSize   = 16 // distinct Bundles per kind; re-sent ones still create new resources
)

// newScenario builds a scenario over d. Kinds that need data d lacks are
// left out; a scenario left with no kind is an error.
func newScenario(name string, d *Dataset, seed uint64) (*scenario, error) {
	var kinds []kind
	switch name {
	case Ingest:
		kinds = ingestKinds(seed)
	case Read:
		kinds = readKinds(d)
	case Search:
		kinds = searchKinds(d)
	case Mixed:
		kinds = mixedKinds(d, seed)
	default:
		return nil, fmt.Errorf("unknown scenario %q (want one of %s)", name, strings.Join(Scenarios(), ", "))
	}
	s := &scenario{name: name}
	for _, k := range kinds {
		if k.weight > 0 {
			s.kinds = append(s.kinds, k)
			s.total += k.weight
		}
	}
	if len(s.kinds) == 0 {
		return nil, fmt.Errorf("scenario %s needs data the server does not have: load some with --load N", name)
	}
	return s, nil
}

// weightIf is w when the data a kind needs is there, else 0.
func weightIf(w, have int) int {
	if have == 0 {
		return 0
	}
	return w
}

// bundlePool is n Bundles from one generator, with their entry counts.
func bundlePool(g *synth.Generator, n int, gen func(*synth.Generator) []byte) (bodies [][]byte, entries []int) {
	for range n {
		b := gen(g)
		bodies = append(bodies, b)
		entries = append(entries, countEntries(b))
	}
	return bodies, entries
}

func ingestKinds(seed uint64) []kind {
	var kinds []kind
	for _, k := range synth.Kinds() {
		g := synth.New(seed ^ ingestSalt ^ uint64(len(kinds)+1)<<40)
		bodies, entries := bundlePool(g, poolSize, func(g *synth.Generator) []byte { return g.IngestBundle(k) })
		kinds = append(kinds, kind{name: "transaction " + k, weight: 1, make: func(r *rand.Rand) Request {
			i := r.IntN(len(bodies))
			return Request{Method: "POST", Body: bodies[i], Resources: entries[i]}
		}})
	}
	return kinds
}

func readKinds(d *Dataset) []kind {
	return []kind{
		{"Patient/{id}", weightIf(40, len(d.Patients)), func(r *rand.Rand) Request {
			return get("Patient/" + d.Patients[r.IntN(len(d.Patients))].ID)
		}},
		{"ServiceRequest/{id}", weightIf(30, len(d.Referrals)), func(r *rand.Rand) Request {
			return get("ServiceRequest/" + d.Referrals[r.IntN(len(d.Referrals))].ID)
		}},
		{"Observation/{id}", weightIf(30, len(d.Observations)), func(r *rand.Rand) Request {
			return get("Observation/" + d.Observations[r.IntN(len(d.Observations))])
		}},
	}
}

func searchKinds(d *Dataset) []kind {
	withNHS := filter(d.Patients, func(p Patient) bool { return p.NHSNumber != "" })
	named := filter(d.Patients, func(p Patient) bool { return p.Family != "" && p.Given != "" })
	referred := filter(d.Referrals, func(r Referral) bool { return r.NHSNumber != "" })
	dated := filter(d.Referrals, func(r Referral) bool { return len(r.Authored) == 10 })
	return []kind{
		{"token: Patient?identifier", weightIf(25, len(withNHS)), func(r *rand.Rand) Request {
			return get("Patient?identifier=" + url.QueryEscape(nhsSystem+"|"+pickOne(r, withNHS).NHSNumber))
		}},
		{"string: Patient?family&given", weightIf(20, len(named)), func(r *rand.Rand) Request {
			p := pickOne(r, named)
			return get("Patient?family=" + url.QueryEscape(p.Family) + "&given=" + url.QueryEscape(p.Given))
		}},
		{"date: ServiceRequest?authored", weightIf(20, len(dated)), func(r *rand.Rand) Request {
			day, _ := time.Parse(time.DateOnly, pickOne(r, dated).Authored)
			return get("ServiceRequest?authored=ge" + day.Format(time.DateOnly) + "&authored=lt" + day.AddDate(0, 0, 1).Format(time.DateOnly) + "&_count=20")
		}},
		{"chain: ServiceRequest?subject:Patient.identifier", weightIf(20, len(referred)), func(r *rand.Rand) Request {
			return get("ServiceRequest?subject:Patient.identifier=" + url.QueryEscape(nhsSystem+"|"+pickOne(r, referred).NHSNumber))
		}},
		{"include: ServiceRequest?subject&_include", weightIf(15, len(d.Referrals)), func(r *rand.Rand) Request {
			return get("ServiceRequest?subject=Patient/" + pickOne(r, d.Referrals).PatientID +
				"&_include=ServiceRequest:subject&_include=ServiceRequest:requester")
		}},
	}
}

// adviceOutcomes are what a consultant concludes: the diagnosis (SNOMED)
// and the advice outcome (profiles/README.md). Only outcomes that convert
// the referral to an appointment are drawn: the workflow takes them again
// on a referral already answered so (an amendment), where advice-only
// after them would be a forbidden move (409), and the load generator
// answers referrals at random, some more than once.
var adviceOutcomes = []struct{ code, display, outcome, text string }{
	{"400010006", "Melanocytic naevus of skin", "routine-appointment", "Probable naevus; routine clinic to confirm."},
	{"254701007", "Basal cell carcinoma of skin", "direct-to-procedure", "Likely BCC. Straight to the skin surgery list."},
	{"93655004", "Malignant melanoma of skin", "urgent-suspected-cancer", "Suspicious of melanoma. Seen on the two-week-wait pathway."},
	{"402599005", "Seborrhoeic keratosis", "routine-appointment", "Seborrhoeic keratosis; routine clinic for cryotherapy."},
}

func mixedKinds(d *Dataset, seed uint64) []kind {
	bodies, entries := bundlePool(synth.New(seed^mixedSalt), 2*poolSize, (*synth.Generator).ReferralBundle)
	return []kind{
		// The GP system submits a referral as one transaction.
		{"submit referral: POST transaction", 10, func(r *rand.Rand) Request {
			i := r.IntN(len(bodies))
			return Request{Method: "POST", Body: bodies[i], Resources: entries[i]}
		}},
		// Consultants' worklists poll for the newest active referrals.
		{"worklist: ServiceRequest?status&_sort&_include", 35, func(r *rand.Rand) Request {
			return get("ServiceRequest?status=active&_sort=-authored&_count=20&_include=ServiceRequest:subject")
		}},
		// A consultant opens one referral with its photos and patient.
		{"consult: ServiceRequest?_id&_revinclude=Media", weightIf(40, len(d.Referrals)), func(r *rand.Rand) Request {
			return get("ServiceRequest?_id=" + pickOne(r, d.Referrals).ID + "&_revinclude=Media:based-on&_include=ServiceRequest:subject")
		}},
		// and answers with advice based on it.
		{"advice: POST DiagnosticReport", weightIf(15, len(d.Referrals)), func(r *rand.Rand) Request {
			ref := pickOne(r, d.Referrals)
			out := adviceOutcomes[r.IntN(len(adviceOutcomes))]
			issued := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(8*60)) * time.Minute)
			body := fmt.Appendf(nil, `{"resourceType":"DiagnosticReport","status":"final",`+
				`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"DER","display":"Dermatology"}]}],`+
				`"code":{"coding":[{"system":"http://loinc.org","code":"11488-4","display":"Consult note"}],"text":"Teledermatology advice"},`+
				`"basedOn":[{"reference":"ServiceRequest/%s"}],"subject":{"reference":"Patient/%s"},"issued":%q,`+
				`"performer":[{"display":"Consultant dermatologist"}],"conclusion":%q,`+
				`"conclusionCode":[{"coding":[{"system":"https://telederm.example/fhir/CodeSystem/advice-outcome","code":%q}]},`+
				`{"coding":[{"system":"http://snomed.info/sct","code":%q,"display":%q}]}]}`,
				ref.ID, ref.PatientID, issued.Format(time.RFC3339), out.text, out.outcome, out.code, out.display)
			return Request{Method: "POST", Path: "DiagnosticReport", Body: body, Resources: 1}
		}},
	}
}

func get(path string) Request { return Request{Method: "GET", Path: path} }

func pickOne[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// shapeKey names the shape of a request without its values: method,
// resource type, whether an id follows, and the sorted query parameter
// names. The ceiling server finds the responses to replay by it, from the
// request alone, so the requests it gets are byte for byte those the real
// server got. "GET Patient/{id}", "GET ServiceRequest?_count&_include&...",
// "POST /".
func shapeKey(method, path string) string {
	path, query, _ := strings.Cut(path, "?")
	path = strings.Trim(path, "/")
	if path == "" {
		return method + " /"
	}
	typ, rest, _ := strings.Cut(path, "/")
	key := method + " " + typ
	if rest != "" {
		key += "/{id}"
	}
	if query == "" {
		return key
	}
	var names []string
	for _, p := range strings.Split(query, "&") {
		name, _, _ := strings.Cut(p, "=")
		names = append(names, name)
	}
	sort.Strings(names)
	return key + "?" + strings.Join(names, "&")
}
