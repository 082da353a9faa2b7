package search

import (
	"math"
	"testing"
)

func TestDateEntries(t *testing.T) {
	d := func(lo, hi int64) Entry { return Entry{Lo: lo, Hi: hi} }
	t.Run("precision", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "birthdate", URL: "u:bd", Type: Date, Base: []string{"Patient"}, Expression: "Patient.birthDate"}}, []indexCase{
			{"year", `{"resourceType":"Patient","birthDate":"1974"}`, []Entry{d(ixMicros(1974, 1, 1, 0, 0, 0, 0), ixMicros(1975, 1, 1, 0, 0, 0, 0))}},
			{"month", `{"resourceType":"Patient","birthDate":"1974-12"}`, []Entry{d(ixMicros(1974, 12, 1, 0, 0, 0, 0), ixMicros(1975, 1, 1, 0, 0, 0, 0))}},
			{"day", `{"resourceType":"Patient","birthDate":"1974-12-25"}`, []Entry{d(ixMicros(1974, 12, 25, 0, 0, 0, 0), ixMicros(1974, 12, 26, 0, 0, 0, 0))}},
			{"before 1970", `{"resourceType":"Patient","birthDate":"1901-02-28"}`, []Entry{d(ixMicros(1901, 2, 28, 0, 0, 0, 0), ixMicros(1901, 3, 1, 0, 0, 0, 0))}},
			{"malformed skipped", `{"resourceType":"Patient","birthDate":"25/12/1974"}`, nil},
			{"not a calendar date", `{"resourceType":"Patient","birthDate":"2023-02-30"}`, nil},
		})
	})
	t.Run("dateTime and instant", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "date", URL: "u:date", Type: Date, Base: []string{"Observation"}, Expression: "Observation.effective | Observation.issued"}}, []indexCase{
			{"zone", `{"resourceType":"Observation","effectiveDateTime":"2013-04-02T09:30:10+01:00"}`, []Entry{d(ixMicros(2013, 4, 2, 8, 30, 10, 0), ixMicros(2013, 4, 2, 8, 30, 11, 0))}},
			{"minutes", `{"resourceType":"Observation","effectiveDateTime":"2013-04-02T09:30Z"}`, []Entry{d(ixMicros(2013, 4, 2, 9, 30, 0, 0), ixMicros(2013, 4, 2, 9, 31, 0, 0))}},
			{"milliseconds", `{"resourceType":"Observation","issued":"2013-04-03T15:30:10.123Z"}`, []Entry{d(ixMicros(2013, 4, 3, 15, 30, 10, 123000000), ixMicros(2013, 4, 3, 15, 30, 10, 124000000))}},
			{"finer than a microsecond still covers one", `{"resourceType":"Observation","issued":"2013-04-03T15:30:10.1234567Z"}`,
				[]Entry{d(ixMicros(2013, 4, 3, 15, 30, 10, 123456000), ixMicros(2013, 4, 3, 15, 30, 10, 123457000))}},
			{"period", `{"resourceType":"Observation","effectivePeriod":{"start":"2020-01","end":"2020-03-05"}}`, []Entry{d(ixMicros(2020, 1, 1, 0, 0, 0, 0), ixMicros(2020, 3, 6, 0, 0, 0, 0))}},
			{"period open end", `{"resourceType":"Observation","effectivePeriod":{"start":"2020-01-01T10:00:00Z"}}`, []Entry{d(ixMicros(2020, 1, 1, 10, 0, 0, 0), math.MaxInt64)}},
			{"period open start", `{"resourceType":"Observation","effectivePeriod":{"end":"2020"}}`, []Entry{d(math.MinInt64, ixMicros(2021, 1, 1, 0, 0, 0, 0))}},
			{"period with a malformed end", `{"resourceType":"Observation","effectivePeriod":{"start":"2020","end":"soon"}}`, nil},
			{"timing", `{"resourceType":"Observation","effectiveTiming":{"event":["2021-05-01","2021-05-08"],"repeat":{"boundsPeriod":{"start":"2021-05-01","end":"2021-05-31"}}}}`,
				[]Entry{d(ixMicros(2021, 5, 1, 0, 0, 0, 0), ixMicros(2021, 5, 2, 0, 0, 0, 0)), d(ixMicros(2021, 5, 8, 0, 0, 0, 0), ixMicros(2021, 5, 9, 0, 0, 0, 0)), d(ixMicros(2021, 5, 1, 0, 0, 0, 0), ixMicros(2021, 6, 1, 0, 0, 0, 0))}},
			{"timing without dates", `{"resourceType":"Observation","effectiveTiming":{"repeat":{"frequency":1,"period":1,"periodUnit":"d"}}}`, nil},
		})
	})
	t.Run("time and other types skipped", func(t *testing.T) {
		runIndexCases(t, []Param{{Code: "value", URL: "u:value", Type: Date, Base: []string{"Observation"}, Expression: "Observation.value"}}, []indexCase{
			{"time", `{"resourceType":"Observation","valueTime":"10:30:00"}`, nil},
			{"string", `{"resourceType":"Observation","valueString":"yesterday"}`, nil},
			{"quantity", `{"resourceType":"Observation","valueQuantity":{"value":3}}`, nil},
		})
	})
}
