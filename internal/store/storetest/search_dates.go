package storetest

import (
	"math"
	"testing"
	"time"

	"github.com/telederm/telederm/fhir/search"
	"github.com/telederm/telederm/internal/store"
)

// testSearchDatePrecision checks dates at the edges of the range: open
// period ends, the year 0001 and 9999 and sub-millisecond instants, where
// a lossy conversion (through float64, say) moves a boundary.
func testSearchDatePrecision(t *testing.T, r store.Repository) {
	late := time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
	lateMs := span{us(late), us(late) + 1000} // written to the millisecond
	fine := time.Date(2300, 1, 1, 0, 0, 0, 3000, time.UTC)
	fineUs := span{us(fine), us(fine) + 1} // written to the microsecond
	commit(t, r,
		resource("Observation", "late", 0, eDate("date", lateMs)),
		resource("Observation", "fine", 0, eDate("date", fineUs)),
		resource("Observation", "open-start", 0, eDate("date", span{math.MinInt64, us(day(2000, 1, 1))})),
		resource("Observation", "year-1", 0, eDate("date", days(1, 1, 1))),
	)
	before := func(s span, n int64) span { return span{s.lo - n, s.lo} }
	after := func(s span, n int64) span { return span{s.hi, s.hi + n} }
	obs := func(ids ...string) []string { return refs("Observation", ids...) }
	date := func(name string, prefix search.Prefix, s span, want ...string) searchCase {
		return searchCase{name, search.Query{Type: "Observation", Where: and(qDate(pDate, prefix, s))}, obs(want...)}
	}
	runSearchCases(t, r, []searchCase{
		date("9999 ms eq itself", search.Eq, lateMs, "late"),
		date("9999 ms le itself", search.Le, lateMs, "late", "fine", "open-start", "year-1"),
		date("9999 ms ne itself", search.Ne, lateMs, "fine", "open-start", "year-1"),
		date("9999 ms sa the ms before", search.Sa, before(lateMs, 1000), "late"),
		date("9999 ms gt the ms before", search.Gt, before(lateMs, 1000), "late"),
		date("9999 ms not eq the ms before", search.Eq, before(lateMs, 1000)),
		date("9999 ms eb the ms after", search.Eb, after(lateMs, 1000), "late", "fine", "open-start", "year-1"),
		date("9999 ms lt the ms after", search.Lt, after(lateMs, 1000), "late", "fine", "open-start", "year-1"),
		date("2300 µs eq itself", search.Eq, fineUs, "fine"),
		date("2300 µs sa the µs before", search.Sa, before(fineUs, 1), "late", "fine"),
		date("2300 µs eb the µs after", search.Eb, after(fineUs, 1), "fine", "open-start", "year-1"),
		date("2300 µs not eq the µs after", search.Eq, after(fineUs, 1)),
		date("2300 µs not sa itself", search.Sa, fineUs, "late"),
		{"2300 µs ap window is itself", search.Query{Type: "Observation", Where: and(qDateAp(pDate, fineUs, fineUs))}, obs("fine")},
		{"2300 µs ap window ends at it", search.Query{Type: "Observation", Where: and(qDateAp(pDate, fineUs, before(fineUs, 5)))}, obs()},
		date("open start lt", search.Lt, years(1999), "open-start", "year-1"),
		date("open start eb its end", search.Eb, years(2000), "open-start", "year-1"),
		date("open start not eq", search.Eq, years(1999)),
		date("open start not gt", search.Gt, years(1999), "late", "fine"),
		date("year 1 eq", search.Eq, years(1), "year-1"),
		date("year 1 sa", search.Sa, years(0), "late", "fine", "year-1"),
	})
}

// testSearchTwoSidedRange checks a range written as two clauses on one
// parameter. The clauses are independent: a resource with several dates
// matches when one date meets the first and another the second, even if
// no single date is in the range; a resource with one date must have it in
// the range. Backends may answer such groups specially (sqlite does), so
// both shapes are covered, for dates and numbers.
func testSearchTwoSidedRange(t *testing.T, r store.Repository) {
	commit(t, r,
		resource("Observation", "inside", 0, eDate("date", days(2020, 6, 15))),
		resource("Observation", "before", 0, eDate("date", days(2020, 3, 1))),
		resource("Observation", "after", 0, eDate("date", days(2020, 9, 1))),
		resource("Observation", "straddles", 0, eDate("date", days(2020, 1, 1)), eDate("date", days(2020, 12, 31))),
		resource("Observation", "both-outside-low", 0, eDate("date", days(2020, 1, 1)), eDate("date", days(2020, 2, 1))),
		resource("Observation", "one-inside", 0, eDate("date", days(2019, 1, 1)), eDate("date", days(2020, 6, 20))),
		// one wide entry: a period from 2019 to 2021 covers the range
		resource("Observation", "period", 0, eDate("date", span{us(day(2019, 1, 1)), us(day(2021, 1, 1))})),
		// an open start ending in June
		resource("Observation", "open", 0, eDate("date", span{math.MinInt64, us(day(2020, 6, 10))})),
	)
	obs := func(ids ...string) []string { return refs("Observation", ids...) }
	june := span{us(day(2020, 6, 1)), us(day(2020, 7, 1))}
	runSearchCases(t, r, []searchCase{
		// open ends before July, so it is not ge June.
		{"ge and le", search.Query{Type: "Observation", Where: and(qDate(pDate, search.Ge, june), qDate(pDate, search.Le, june))},
			obs("inside", "straddles", "one-inside", "period")},
		{"gt and lt", search.Query{Type: "Observation", Where: and(qDate(pDate, search.Gt, span{us(day(2020, 5, 31)), us(day(2020, 6, 1))}), qDate(pDate, search.Lt, span{us(day(2020, 7, 1)), us(day(2020, 7, 2))}))},
			obs("inside", "straddles", "one-inside", "period", "open")},
		{"three clauses", search.Query{Type: "Observation", Where: and(qDate(pDate, search.Ge, june), qDate(pDate, search.Le, june), qDate(pDate, search.Sa, years(2018)))},
			obs("inside", "straddles", "one-inside", "period")},
		{"eq and eb", search.Query{Type: "Observation", Where: and(qDate(pDate, search.Eq, years(2020)), qDate(pDate, search.Eb, june))},
			obs("before", "straddles", "both-outside-low", "one-inside")},
	})
}
