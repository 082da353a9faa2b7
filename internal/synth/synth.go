// Package synth generates synthetic, valid FHIR R4 data for benchmarks, load
// generation and conformance tests: GP skin-lesion referrals and general
// (Synthea-like) clinical records, as transaction Bundles.
//
// Output is a pure function of the seed: the same seed gives the same bytes
// on every run and platform (math/rand/v2 PCG, fixed base dates, no clock,
// no map iteration). Every entry of a generated Bundle is a POST with a
// random (seeded) urn:uuid fullUrl, and every reference between its
// resources uses those urn:uuids, for the server to rewrite; ReferralFrom
// also refers to a practice already stored (Region makes one), by the
// references its caller gives.
//
// Referrals follow the data model of profiles/README.md (they claim its
// profiles in meta.profile); AdviceOutcome, AnswerWorkingDays and
// AdviceReport give `telederm seed` the consultant's side with the
// published service's outcome mix and answer times.
//
// All people, practices and numbers are invented: NHS numbers come from the
// 999 range kept for testing, and phone numbers from Ofcom's drama ranges.
package synth

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"
)

// The kinds of ingest Bundle IngestBundle makes.
const (
	KindReferral = "referral" // six skin-lesion referrals, 96 entries
	KindClinical = "clinical" // one general clinical record, 100 entries
)

// Kinds lists the kinds IngestBundle accepts.
func Kinds() []string { return []string{KindReferral, KindClinical} }

// Entries per Bundle: ReferralBundle, ClinicalBundle and IngestBundle of
// either kind.
const (
	ReferralEntries = 16
	ClinicalEntries = 100
	IngestReferrals = 6 // referrals per "referral" ingest Bundle (96 entries)
)

// Generator makes synthetic data from one seeded random stream. Each call
// continues the stream, so successive Bundles differ and the sequence is
// the same for a given seed. A Generator is not safe for concurrent use;
// give each goroutine its own (with its own seed).
type Generator struct {
	rng *rand.Rand
}

// New returns a Generator whose output is fixed by seed.
func New(seed uint64) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, 0x7e1ede53d4a7a000))}
}

// IngestBundle is the unit of the ingest benchmark and load generator, about
// 100 resources in one transaction: KindReferral is IngestReferrals
// referrals, KindClinical is a ClinicalBundle. Any other kind panics; check
// user input against Kinds.
func (g *Generator) IngestBundle(kind string) []byte {
	switch kind {
	case KindReferral:
		b := &bundle{}
		for range IngestReferrals {
			g.acceptedReferral(b)
		}
		return b.json()
	case KindClinical:
		return g.ClinicalBundle()
	}
	panic(fmt.Sprintf("synth: unknown ingest kind %q (want one of %q)", kind, Kinds()))
}

// NHSNumber returns a valid NHS number (modulus 11 check digit) from the
// 999 range, which is not issued to patients. Numbers whose check digit
// would be 10 do not exist and are skipped. There are about 900,000 such
// numbers, so large data sets repeat some.
func (g *Generator) NHSNumber() string {
	for {
		var d [10]byte
		d[0], d[1], d[2] = '9', '9', '9'
		for i := 3; i < 9; i++ {
			d[i] = byte('0' + g.rng.IntN(10))
		}
		check, ok := nhsCheckDigit(d[:9])
		if !ok {
			continue
		}
		d[9] = '0' + check
		return string(d[:])
	}
}

// ValidNHSNumber reports whether s is ten digits whose last is the modulus
// 11 check digit of the first nine. Spaces are not accepted.
func ValidNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	check, ok := nhsCheckDigit([]byte(s[:9]))
	return ok && s[9] == '0'+check
}

// nhsCheckDigit is the check digit of nine digits: each times 10 down to
// 2, summed, r = sum mod 11, check = 11 - r with 11 as 0; 10 means no
// valid number has these digits (ok false).
func nhsCheckDigit(d []byte) (byte, bool) {
	sum := 0
	for i, c := range d {
		sum += int(c-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return 0, true
	case 10:
		return 0, false
	}
	return byte(check), true
}

// --- random helpers ---

// urn is a fresh urn:uuid (a version 4 UUID from the seeded stream).
func (g *Generator) urn() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return "urn:uuid:" + string(s[:])
}

func (g *Generator) intn(n int) int { return g.rng.IntN(n) }

// between is a uniform integer in [lo, hi].
func (g *Generator) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// uniform is a uniform float in [lo, hi).
func (g *Generator) uniform(lo, hi float64) float64 { return lo + g.rng.Float64()*(hi-lo) }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

func pick[T any](g *Generator, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

// --- dates ---

// epoch is the start of the window all clinical dates fall in: the two
// years 2025 and 2026.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const windowDays = 730

// workingTime is a weekday in [from, from+days) at a surgery time
// (08:00-18:00, to the minute).
func (g *Generator) workingTime(from time.Time, days int) time.Time {
	d := from.AddDate(0, 0, g.intn(days))
	switch d.Weekday() {
	case time.Saturday:
		d = d.AddDate(0, 0, 2)
	case time.Sunday:
		d = d.AddDate(0, 0, 1)
	}
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	return d.Add(time.Duration(8*60+g.intn(10*60)) * time.Minute)
}

// birthDate is a date of birth for someone aged between lo and hi on the date on.
func (g *Generator) birthDate(on time.Time, lo, hi int) time.Time {
	born := on.AddDate(-g.between(lo, hi), 0, 0)
	return born.AddDate(0, 0, -g.intn(365))
}

func dateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
func date(t time.Time) string     { return t.Format("2006-01-02") }
