package sqlite

import (
	"encoding/json"

	"github.com/telederm/telederm/fhir/search"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/telederm/telederm/internal/store"
)

// patient is a Patient-sized body (about 1 KB), as the REST layer renders it.
var patient = []byte(`{"resourceType":"Patient","id":"b0c1d2e3-f4a5-4b6c-9d7e-8f9a0b1c2d3e",` +
	`"meta":{"versionId":"1","lastUpdated":"2025-03-01T09:00:00.000Z",` +
	`"profile":["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},` +
	`"identifier":[{"extension":[{"url":"https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",` +
	`"valueCodeableConcept":{"coding":[{"system":"https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",` +
	`"code":"01","display":"Number present and verified"}]}}],"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449306753"}],` +
	`"active":true,"name":[{"use":"official","family":"Ashworth","given":["Eleanor","May"],"prefix":["Mrs"]}],` +
	`"telecom":[{"system":"phone","value":"01632 960587","use":"home"},{"system":"email","value":"eleanor.ashworth@example.org"}],` +
	`"gender":"female","birthDate":"1958-07-14","address":[{"use":"home","line":["14 Cranbrook Road","Flat 2"],` +
	`"city":"Leeds","district":"West Yorkshire","postalCode":"LS6 2QT","country":"GB"}],` +
	`"generalPractitioner":[{"reference":"Organization/b82033","identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"B82033"}}],` +
	`"managingOrganization":{"reference":"Organization/b82033"}}`)

var benchTime = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func benchStore(b *testing.B) *Store {
	s := openTest(b, b.TempDir(), Options{})
	b.Cleanup(func() { s.Close() })
	return s
}

func create(typ string, n int64) store.Change {
	return store.Change{Type: typ, ID: strconv.FormatInt(n, 10), Version: 1,
		LastUpdated: benchTime, Method: store.MethodCreate, Body: patient}
}

// fill commits n resources of typ in batches, each with versions versions.
func fill(b testing.TB, s *Store, typ string, n, versions int64) {
	ctx := b.Context() // cancelable, as a request's is: drivers take a slower path for those
	for v := int64(1); v <= versions; v++ {
		var batch []store.Change
		for i := int64(1); i <= n; i++ {
			c := create(typ, i)
			c.PrevVersion, c.Version = v-1, v
			c.LastUpdated = benchTime.Add(time.Duration(v) * time.Minute)
			batch = append(batch, c)
			if len(batch) == 200 || i == n {
				if err := s.Commit(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context() // cancelable, as a request's is: drivers take a slower path for those
	b.SetBytes(int64(len(patient)))
	var n int64
	for b.Loop() {
		n++
		if err := s.Commit(ctx, []store.Change{create("Patient", n)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateParallel(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context() // cancelable, as a request's is: drivers take a slower path for those
	b.SetBytes(int64(len(patient)))
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Commit(ctx, []store.Change{create("Patient", n.Add(1))}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	const resources = 1000
	s := benchStore(b)
	fill(b, s, "Patient", resources, 1)
	ctx := b.Context() // cancelable, as a request's is: drivers take a slower path for those
	read := func(b *testing.B, i int64) {
		if _, err := s.Current(ctx, "Patient", strconv.FormatInt(i%resources+1, 10)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("Sequential", func(b *testing.B) {
		var i int64
		for b.Loop() {
			read(b, i)
			i++
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				read(b, n.Add(1))
			}
		})
	})
}

// BenchmarkHistory reads one page of 10 (instance) or 50 (type, system)
// versions from 1000 Patients with 5 versions each and 1000 Observations.
func BenchmarkHistory(b *testing.B) {
	s := benchStore(b)
	fill(b, s, "Patient", 1000, 5)
	fill(b, s, "Observation", 1000, 1)
	ctx := b.Context() // cancelable, as a request's is: drivers take a slower path for those
	mid, err := s.History(ctx, store.HistoryQuery{Count: 3000})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		q    store.HistoryQuery
	}{
		{"Instance", store.HistoryQuery{Type: "Patient", ID: "500", Count: 10}},
		{"Type", store.HistoryQuery{Type: "Patient", Count: 50}},
		{"SystemMiddlePage", store.HistoryQuery{Count: 50, Cursor: mid.Next}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.History(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateIndexed: concurrent single-resource commits with and
// without the Patient's search index entries; the ratio is what indexing
// costs the writer. Each Patient has its own names, numbers and dates, so
// its entries land all over the index B-trees as real ones do.
func BenchmarkCreateIndexed(b *testing.B) {
	const variants = 4096
	ix := search.NewIndexer(nil, "")
	entries := make([][]search.Entry, variants)
	for i := range entries {
		var doc map[string]any
		if err := json.Unmarshal(patient, &doc); err != nil {
			b.Fatal(err)
		}
		doc["id"] = "p" + strconv.Itoa(i)
		doc["birthDate"] = time.Date(1930+i%90, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		doc["name"] = []any{map[string]any{"family": "Family" + strconv.Itoa(i*7919%variants), "given": []any{"Given" + strconv.Itoa(i%97)}}}
		doc["identifier"] = []any{map[string]any{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": strconv.Itoa(9000000000 + i*104729%999999)}}
		doc["telecom"] = []any{map[string]any{"system": "phone", "value": "01632 " + strconv.Itoa(100000+i*7907%900000)}}
		es, err := ix.Entries(doc)
		if err != nil {
			b.Fatal(err)
		}
		entries[i] = es
	}
	for _, bc := range []struct {
		name  string
		index bool
	}{{"Index", true}, {"NoIndex", false}} {
		b.Run(bc.name, func(b *testing.B) {
			s := benchStore(b)
			ctx := b.Context()
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					c := create("Patient", i)
					if bc.index {
						c.Index = entries[i%variants]
					}
					if err := s.Commit(ctx, []store.Change{c}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
