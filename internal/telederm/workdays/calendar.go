package workdays

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"time"
	_ "time/tzdata" // Europe/London must load on hosts without zoneinfo.
)

//go:embed holidays-england-wales.json
var defaultHolidays []byte

// dateLayout is how holidays are written: "2026-12-25".
const dateLayout = "2006-01-02"

// date is a civil date (no zone), so day arithmetic ignores DST.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time, loc *time.Location) date {
	y, m, d := t.In(loc).Date()
	return date{y, m, d}
}

// addDays normalises through time.Date in UTC, which has no DST.
func (d date) addDays(n int) date {
	return dateOf(time.Date(d.y, d.m, d.d+n, 0, 0, 0, 0, time.UTC), time.UTC)
}

func (d date) before(o date) bool {
	if d.y != o.y {
		return d.y < o.y
	}
	if d.m != o.m {
		return d.m < o.m
	}
	return d.d < o.d
}

func (d date) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC).Weekday()
}

// Calendar answers working-day questions in one time zone.
type Calendar struct {
	loc             *time.Location
	holidays        map[date]bool
	firstYr, lastYr int // years the holiday data covers; 0,0 when none
}

// New builds a calendar from a zone and holiday dates written "2006-01-02".
func New(loc *time.Location, holidays []string) (*Calendar, error) {
	if loc == nil {
		return nil, fmt.Errorf("workdays: time zone is required")
	}
	c := &Calendar{loc: loc, holidays: make(map[date]bool, len(holidays))}
	for i, h := range holidays {
		t, err := time.Parse(dateLayout, h)
		if err != nil {
			return nil, fmt.Errorf("workdays: holidays[%d] %q is not a date like 2026-12-25", i, h)
		}
		d := dateOf(t, time.UTC)
		c.holidays[d] = true
		if c.firstYr == 0 || d.y < c.firstYr {
			c.firstYr = d.y
		}
		if d.y > c.lastYr {
			c.lastYr = d.y
		}
	}
	return c, nil
}

// fileFormat is the operator's calendar file.
type fileFormat struct {
	Timezone string   `json:"timezone"`
	Holidays []string `json:"holidays"`
}

// Parse reads an operator calendar file:
// {"timezone": "Europe/London", "holidays": ["2025-01-01", ...]}.
func Parse(r io.Reader) (*Calendar, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f fileFormat
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("workdays: calendar file: %w", err)
	}
	if f.Timezone == "" {
		return nil, fmt.Errorf("workdays: calendar file: timezone is required")
	}
	loc, err := time.LoadLocation(f.Timezone)
	if err != nil {
		return nil, fmt.Errorf("workdays: calendar file: timezone %q: %w", f.Timezone, err)
	}
	return New(loc, f.Holidays)
}

// Default is Europe/London with the England and Wales bank holidays
// 2025-2028. The data is embedded and checked by the tests.
func Default() *Calendar {
	c, err := Parse(bytes.NewReader(defaultHolidays))
	if err != nil {
		panic(err)
	}
	return c
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

func (c *Calendar) working(d date) bool {
	switch d.weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.holidays[d]
}

// IsWorkingDay reports whether t falls, in c's zone, on a Monday to Friday
// that is not a holiday.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return c.working(dateOf(t, c.loc)) }

// nthWorkingDayAfter is the n-th working day strictly after d (d itself
// when n <= 0).
func (c *Calendar) nthWorkingDayAfter(d date, n int) date {
	for n > 0 {
		d = d.addDays(1)
		if c.working(d) {
			n--
		}
	}
	return d
}

// Due is the end of the n-th working day after submitted's day: 00:00, in
// c's zone, of the day after it (an exclusive bound). n <= 0 gives the end
// of submitted's own day.
func (c *Calendar) Due(submitted time.Time, n int) time.Time {
	d := c.nthWorkingDayAfter(dateOf(submitted, c.loc), n)
	return time.Date(d.y, d.m, d.d+1, 0, 0, 0, 0, c.loc)
}

// WorkingDaysTaken counts the working days after submitted's day up to and
// including answered's day; an answer on a non-working day counts as the
// next working day. It is 0 when answered is on submitted's day or before.
func (c *Calendar) WorkingDaysTaken(submitted, answered time.Time) int {
	s, a := dateOf(submitted, c.loc), dateOf(answered, c.loc)
	if !s.before(a) {
		return 0
	}
	n := 0
	for d := s.addDays(1); !a.before(d); d = d.addDays(1) {
		if c.working(d) {
			n++
		}
	}
	if !c.working(a) {
		n++ // the next working day after a, which is after s too
	}
	return n
}

// Within reports whether answered came before Due(submitted, n).
func (c *Calendar) Within(submitted, answered time.Time, n int) bool {
	return answered.Before(c.Due(submitted, n))
}

// Covers reports whether t's year (in c's zone) is within the years the
// holiday data covers; outside them only weekends are skipped.
func (c *Calendar) Covers(t time.Time) bool {
	y := t.In(c.loc).Year()
	return c.firstYr != 0 && y >= c.firstYr && y <= c.lastYr
}
