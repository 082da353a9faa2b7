package synth

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/telederm/telederm/fhir"
)

// txBundle is what the tests read of a generated Bundle.
type txBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
	} `json:"entry"`
}

func decodeBundle(t *testing.T, data []byte) txBundle {
	t.Helper()
	var b txBundle
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&b); err != nil {
		t.Fatalf("bundle does not decode: %v", err)
	}
	if b.ResourceType != "Bundle" || b.Type != "transaction" {
		t.Fatalf("bundle is %s/%s, want Bundle/transaction", b.ResourceType, b.Type)
	}
	return b
}

// generators are the Bundle makers under test, with their entry counts.
var generators = []struct {
	name     string
	make     func(g *Generator) []byte
	min, max int
}{
	{"referral", (*Generator).ReferralBundle, ReferralEntries, ReferralEntries},
	{"clinical", (*Generator).ClinicalBundle, 90, 110},
	{"ingest-referral", func(g *Generator) []byte { return g.IngestBundle(KindReferral) }, 90, 110},
	{"ingest-clinical", func(g *Generator) []byte { return g.IngestBundle(KindClinical) }, 90, 110},
	{"referral-from", func(g *Generator) []byte { return g.ReferralFrom(testReferrer, epoch).Bundle }, ReferralEntries - 3, ReferralEntries - 3},
	{"region", func(g *Generator) []byte { return g.Region(38).Bundle }, 38*5 + 11, 38*11 + 11},
}

func TestDeterministic(t *testing.T) {
	for _, gen := range generators {
		t.Run(gen.name, func(t *testing.T) {
			a, b, c := New(42), New(42), New(43)
			for i := range 3 {
				x, y, z := gen.make(a), gen.make(b), gen.make(c)
				if !bytes.Equal(x, y) {
					t.Fatalf("bundle %d: same seed, different bytes", i)
				}
				if bytes.Equal(x, z) {
					t.Fatalf("bundle %d: seeds 42 and 43 give the same bytes", i)
				}
			}
			// Successive Bundles from one Generator differ too.
			g := New(42)
			if bytes.Equal(gen.make(g), gen.make(g)) {
				t.Fatal("two successive bundles are identical")
			}
		})
	}
	a, b := New(7), New(7)
	for range 100 {
		if x, y := a.NHSNumber(), b.NHSNumber(); x != y {
			t.Fatalf("NHS numbers differ for one seed: %s, %s", x, y)
		}
	}
}

func TestNHSNumber(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"9434765919", true},
		{"9434765918", false},
		{"4010232137", true},  // check digit 7
		{"4010232110", true},  // r = 0: 11 - r = 11 becomes 0
		{"4010232111", false}, // same nine digits, wrong check
		{"1234567890", false}, // r = 1: check would be 10, no such number
		{"1234567891", false},
		{"943476591", false},
		{"94347659190", false},
		{"943 476 5919", false},
		{"94347659x9", false},
		{"", false},
	} {
		if got := ValidNHSNumber(tc.s); got != tc.want {
			t.Errorf("ValidNHSNumber(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
	g := New(1)
	seen := map[string]bool{}
	for range 10000 {
		n := g.NHSNumber()
		if !ValidNHSNumber(n) || !strings.HasPrefix(n, "999") {
			t.Fatalf("NHSNumber() = %q: not a valid number in the 999 test range", n)
		}
		seen[n] = true
	}
	if len(seen) < 9000 {
		t.Errorf("only %d distinct numbers in 10,000", len(seen))
	}
}

var (
	uuidURN = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	anyURN  = regexp.MustCompile(`urn:uuid:[0-9a-fA-F-]+`)
)

// TestBundlesValid: every entry of several Bundles of each kind is a POST
// of its resource type under a urn:uuid fullUrl; every resource parses and
// validates with the server's codec; every urn:uuid in a Bundle names one
// of its entries; and the counts are as documented.
func TestBundlesValid(t *testing.T) {
	codec, err := fhir.NewCodec()
	if err != nil {
		t.Fatal(err)
	}
	for _, gen := range generators {
		t.Run(gen.name, func(t *testing.T) {
			g := New(2026)
			types := map[string]int{}
			for n := range 8 {
				raw := gen.make(g)
				b := decodeBundle(t, raw)
				if len(b.Entry) < gen.min || len(b.Entry) > gen.max {
					t.Errorf("bundle %d: %d entries, want %d-%d", n, len(b.Entry), gen.min, gen.max)
				}
				fullURLs := map[string]bool{}
				for i, e := range b.Entry {
					if !uuidURN.MatchString(e.FullURL) {
						t.Errorf("bundle %d entry %d: fullUrl %q is not a v4 urn:uuid", n, i, e.FullURL)
					}
					if fullURLs[e.FullURL] {
						t.Errorf("bundle %d entry %d: fullUrl %s repeated", n, i, e.FullURL)
					}
					fullURLs[e.FullURL] = true
				}
				for i, e := range b.Entry {
					res, o := codec.Parse(e.Resource)
					if o != nil {
						js, _ := json.Marshal(o)
						t.Fatalf("bundle %d entry %d (%s) invalid: %s\n%s", n, i, e.Request.URL, js, e.Resource)
					}
					if e.Request.Method != "POST" || e.Request.URL != res.Type() {
						t.Errorf("bundle %d entry %d: request %s %s for a %s", n, i, e.Request.Method, e.Request.URL, res.Type())
					}
					if res.ID() != "" {
						t.Errorf("bundle %d entry %d: resource has an id", n, i)
					}
					if _, err := codec.Marshal(res); err != nil {
						t.Errorf("bundle %d entry %d: marshal: %v", n, i, err)
					}
					types[res.Type()]++
					for _, u := range anyURN.FindAll(e.Resource, -1) {
						if !fullURLs[string(u)] {
							t.Errorf("bundle %d entry %d: %s is no entry's fullUrl", n, i, u)
						}
						if string(u) == e.FullURL {
							t.Errorf("bundle %d entry %d refers to itself", n, i)
						}
					}
				}
			}
			t.Logf("resource types over 8 bundles: %v", types)
			want := []string{"Patient", "Organization", "Practitioner"}
			switch {
			case gen.name == "region":
				want = []string{"Organization", "Practitioner", "PractitionerRole"}
			case gen.name == "referral-from":
				want = []string{"Patient", "ServiceRequest", "Binary", "Media", "Observation", "Consent", "Condition", "MedicationStatement"}
			case strings.Contains(gen.name, "referral"):
				want = append(want, "PractitionerRole", "ServiceRequest", "Binary", "Media", "Observation", "Consent", "Condition", "MedicationStatement")
			default:
				want = append(want, "Encounter", "Observation", "Condition", "Procedure", "MedicationRequest",
					"Immunization", "DiagnosticReport", "AllergyIntolerance")
			}
			for _, typ := range want {
				if types[typ] == 0 {
					t.Errorf("no %s in 8 bundles", typ)
				}
			}
		})
	}
}

func TestIngestBundleUnknownKind(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("IngestBundle(\"nope\") did not panic")
		}
	}()
	New(1).IngestBundle("nope")
}

func BenchmarkGenerate(b *testing.B) {
	for _, kind := range Kinds() {
		b.Run(kind, func(b *testing.B) {
			g := New(1)
			for b.Loop() {
				b.SetBytes(int64(len(g.IngestBundle(kind))))
			}
		})
	}
}
