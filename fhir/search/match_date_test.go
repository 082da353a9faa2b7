package search

import "testing"

func TestMatchDatePrecision(t *testing.T) {
	d := func(s string) []Entry { return []Entry{dateEntry("birthdate", s)} }
	runMatchCases(t, "Patient", []matchCase{
		// eq: the search range contains the target's
		{"birthdate=2013-01-14", d("2013-01-14"), true},
		{"birthdate=2013-01-14", d("2013-01-14T00:00:00Z"), true},
		{"birthdate=2013-01-14", d("2013-01-14T10:00:00Z"), true},
		{"birthdate=2013-01-14", d("2013-01-14T23:59:59.999Z"), true},
		{"birthdate=2013-01-14", d("2013-01-15T00:00:00Z"), false},
		{"birthdate=2013-01-14", d("2013-01"), false}, // a month is wider than the day
		{"birthdate=2013", d("2013-01-14"), true},
		{"birthdate=2013-01-14T10:00Z", d("2013-01-14T10:00:30Z"), true},
		{"birthdate=2013-01-14T10:00:00%2B01:00", d("2013-01-14T09:00:00Z"), true}, // zones compare as instants
		{"birthdate=eq2013-01-14", d("2013-01-13T23:00:00-01:00"), true},
		// ne
		{"birthdate=ne2013-01-14", d("2013-01-15T00:00:00Z"), true},
		{"birthdate=ne2013-01-14", d("2013-01-14T00:00:00Z"), false},
		{"birthdate=ne2013-01-14", d("2013-01-14T10:00:00Z"), false},
		{"birthdate=ne2013-01-14", d("2013-01"), true},
		// gt/lt: the range above/below the search value overlaps the target
		{"birthdate=gt2013-01-14", d("2013-01-15"), true},
		{"birthdate=gt2013-01-14", d("2013-01-14T23:00:00Z"), false},
		{"birthdate=gt2013-01-14", d("2013-01"), true}, // the month reaches past the day
		{"birthdate=gt2013-01-14T10:00Z", d("2013-01-14"), true},
		{"birthdate=lt2013-01-14T10:00Z", d("2013-01-14"), true},
		{"birthdate=lt2013-01-14", d("2013-01-13"), true},
		{"birthdate=lt2013-01-14", d("2013-01-14T00:00:00Z"), false},
		// ge/le add containment
		{"birthdate=ge2013-01-14", d("2013-01-14T00:00:00Z"), true},
		{"birthdate=ge2013-01-14", d("2013-01-13"), false},
		{"birthdate=le2013-01-14", d("2013-01-14T23:59:59Z"), true},
		{"birthdate=le2013-01-14", d("2013-01-15"), false},
	})
}

func TestMatchDatePeriods(t *testing.T) {
	p := func(start, end string) []Entry { return []Entry{periodEntry("date", start, end)} }
	from21Jan := p("2013-01-21", "")
	runMatchCases(t, "Observation", []matchCase{
		// spec: a period from 21 Jan 2013 onwards may include times on
		// either side of 14 Mar 2013
		{"date=ge2013-03-14", from21Jan, true},
		{"date=le2013-03-14", from21Jan, true},
		{"date=eq2013-03-14", from21Jan, false},
		{"date=ne2013-03-14", from21Jan, true},
		{"date=sa2013-03-14", from21Jan, false},
		{"date=eb2013-03-14", from21Jan, false},
		{"date=sa2013-01-20", from21Jan, true},
		{"date=eq2013", p("2013-02-01", "2013-03-31"), true},
		{"date=eq2013", p("2012-12-31", "2013-03-31"), false},
		{"date=ge2013", p("2012-06", "2013-06"), false}, // neither above nor inside 2013
		{"date=ge2013", p("2012-06", "2014-06"), true},
		{"date=le2013", p("2013-06", "2014-06"), false},
		{"date=le2013", p("2012-06", "2014-06"), true},
		{"date=lt2013", p("", "2012-01"), true}, // open start
		// sa: the target starts at or after the search range ends; eb: ends before it starts
		{"date=sa2013", p("2014-01-01", "2014-06"), true},
		{"date=sa2013", p("2013-12-31", "2014-06"), false},
		{"date=sa2013", dateOnly("2014-01-01T00:00:00Z"), true},
		{"date=eb2013", p("2012-01", "2012-12-31"), true},
		{"date=eb2013", p("2012-01", "2013-01-01"), false},
		{"date=eb2013", p("2012-01", ""), false}, // open end never ends before
		{"date=sa2013", p("", "2015"), false},    // open start never starts after
	})
}

func dateOnly(s string) []Entry { return []Entry{dateEntry("date", s)} }

func TestMatchDateApprox(t *testing.T) {
	// Searched on 2026-01-01 (testNow): ap2016-01-01 reaches about a year
	// (10% of the ten-year gap) either side.
	runMatchCases(t, "Observation", []matchCase{
		{"date=ap2016-01-01", dateOnly("2016-01-01"), true},
		{"date=ap2016-01-01", dateOnly("2016-06-01"), true},
		{"date=ap2016-01-01", dateOnly("2015-03-01"), true},
		{"date=ap2016-01-01", dateOnly("2014-10-01"), false},
		{"date=ap2016-01-01", dateOnly("2017-03-01"), false},
		{"date=ap2016-01-01", []Entry{periodEntry("date", "2010", "2015-06")}, true}, // overlap is enough
		// now inside the range: no widening
		{"date=ap2026", dateOnly("2026-07-01"), true},
		{"date=ap2026", dateOnly("2025-12-31"), false},
	})
}
