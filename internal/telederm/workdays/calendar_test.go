package workdays

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a wall-clock time in London.
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, london)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDue(t *testing.T) {
	cal := Default()
	cases := []struct {
		name      string
		submitted time.Time
		n         int
		want      time.Time
	}{
		{"plain week", at("2026-01-12 09:00"), 3, at("2026-01-16 00:00")},
		{"over a weekend", at("2026-01-09 16:30"), 3, at("2026-01-15 00:00")},
		{"late evening still counts as that day", at("2026-01-09 23:59"), 1, at("2026-01-13 00:00")},
		{"submitted on a Saturday", at("2026-01-10 11:00"), 3, at("2026-01-15 00:00")},
		{"submitted on a Sunday", at("2026-01-11 11:00"), 2, at("2026-01-14 00:00")},
		{"submitted on a bank holiday (early May 2026)", at("2026-05-04 10:00"), 2, at("2026-05-07 00:00")},
		{"Easter 2025 (Good Friday 18, Easter Monday 21 April)", at("2025-04-17 10:00"), 3, at("2025-04-25 00:00")},
		{"Easter 2026 (3 and 6 April)", at("2026-04-02 10:00"), 3, at("2026-04-10 00:00")},
		{"Easter 2027 (26 and 29 March)", at("2027-03-25 10:00"), 2, at("2027-04-01 00:00")},
		{"Easter 2028 (14 and 17 April)", at("2028-04-13 10:00"), 1, at("2028-04-19 00:00")},
		{"Christmas 2026, Boxing Day substitute Monday 28th", at("2026-12-24 14:00"), 3, at("2027-01-01 00:00")},
		{"across New Year 2026-27 (1 January a Friday)", at("2026-12-30 09:00"), 2, at("2027-01-05 00:00")},
		{"Christmas 2027, both substitute days", at("2027-12-23 09:00"), 3, at("2027-12-31 00:00")},
		{"New Year 2028 substitute Monday 3rd", at("2027-12-30 09:00"), 3, at("2028-01-06 00:00")},
		{"Christmas 2025 Thursday/Friday", at("2025-12-24 09:00"), 2, at("2025-12-31 00:00")},
		{"spring bank holiday 2027 (31 May)", at("2027-05-28 09:00"), 1, at("2027-06-02 00:00")},
		{"summer bank holiday 2026 (31 August)", at("2026-08-28 09:00"), 1, at("2026-09-02 00:00")},
		{"n = 0 is the end of the submission day", at("2026-01-12 09:00"), 0, at("2026-01-13 00:00")},
		{"clocks go forward (29 March 2026)", at("2026-03-27 23:30"), 1, at("2026-03-31 00:00")},
		{"clocks go back (25 October 2026)", at("2026-10-23 12:00"), 1, at("2026-10-27 00:00")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cal.Due(tc.submitted, tc.n)
			if !got.Equal(tc.want) {
				t.Fatalf("Due(%s, %d) = %s, want %s", tc.submitted, tc.n, got.In(london), tc.want)
			}
		})
	}
}

// The submission's day is taken in the calendar's zone, not UTC: 23:30 UTC
// on 1 June 2026 is already Tuesday 2 June in London (BST).
func TestDueUsesCalendarZone(t *testing.T) {
	cal := Default()
	submitted := time.Date(2026, 6, 1, 23, 30, 0, 0, time.UTC)
	want := time.Date(2026, 6, 3, 23, 0, 0, 0, time.UTC) // Thursday 4 June 00:00 BST
	if got := cal.Due(submitted, 1); !got.Equal(want) {
		t.Fatalf("Due = %s, want %s", got.UTC(), want)
	}
	// In winter London is UTC, so the same wall time stays on Monday.
	winter := time.Date(2026, 1, 12, 23, 30, 0, 0, time.UTC)
	if got, want := cal.Due(winter, 1), time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("winter Due = %s, want %s", got.UTC(), want)
	}
}

func TestWorkingDaysTaken(t *testing.T) {
	cal := Default()
	cases := []struct {
		name                string
		submitted, answered time.Time
		want                int
	}{
		{"answered the same day", at("2026-01-12 09:00"), at("2026-01-12 17:00"), 0},
		{"answered the next morning", at("2026-01-12 17:00"), at("2026-01-13 08:00"), 1},
		{"Friday to Monday", at("2026-01-09 16:00"), at("2026-01-12 09:00"), 1},
		{"answered on Saturday counts as Monday", at("2026-01-09 16:00"), at("2026-01-10 09:00"), 1},
		{"answered on Sunday after Thursday", at("2026-01-08 16:00"), at("2026-01-11 09:00"), 2},
		{"submitted Saturday, answered Saturday", at("2026-01-10 09:00"), at("2026-01-10 18:00"), 0},
		{"submitted Saturday, answered Monday", at("2026-01-10 09:00"), at("2026-01-12 18:00"), 1},
		{"submitted Saturday, answered Sunday counts as Monday", at("2026-01-10 09:00"), at("2026-01-11 18:00"), 1},
		{"Christmas 2026: answered on Christmas Day counts as Tuesday 29th", at("2026-12-24 09:00"), at("2026-12-25 10:00"), 1},
		{"Christmas 2026: answered on the substitute day", at("2026-12-24 09:00"), at("2026-12-28 10:00"), 1},
		{"Christmas 2026: answered 31 December", at("2026-12-24 09:00"), at("2026-12-31 10:00"), 3},
		{"across the year end into 2027", at("2026-12-24 09:00"), at("2027-01-04 10:00"), 4},
		{"Easter 2026", at("2026-04-02 09:00"), at("2026-04-07 09:00"), 1},
		{"two full weeks", at("2026-01-12 09:00"), at("2026-01-26 09:00"), 10},
		{"answered before submitted", at("2026-01-12 09:00"), at("2026-01-09 09:00"), 0},
		// Fri 27 March 09:00 GMT to Tue 31 March 00:30 BST: naive UTC
		// dates would say Monday, one day.
		{"over the spring clock change", at("2026-03-27 09:00"), time.Date(2026, 3, 30, 23, 30, 0, 0, time.UTC), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cal.WorkingDaysTaken(tc.submitted, tc.answered); got != tc.want {
				t.Fatalf("WorkingDaysTaken = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestWithin(t *testing.T) {
	cal := Default()
	s := at("2026-12-24 09:00") // due after Thursday 31 December
	cases := []struct {
		answered time.Time
		want     bool
	}{
		{at("2026-12-31 23:59"), true},
		{at("2027-01-01 00:00"), false},
		{at("2027-01-01 09:00"), false}, // a holiday after the due date
		{at("2026-12-24 10:00"), true},
	}
	for _, tc := range cases {
		if got := cal.Within(s, tc.answered, 3); got != tc.want {
			t.Errorf("Within(%s, 3) = %v, want %v", tc.answered, got, tc.want)
		}
	}
}

// The three functions must agree: an answer taking n working days or fewer
// is exactly one before Due(submitted, n). Checked on random times over the
// covered years, including weekends, holidays and clock changes.
func TestTakenAgreesWithWithin(t *testing.T) {
	cal := Default()
	rng := rand.New(rand.NewSource(8))
	start := at("2025-01-01 00:00")
	span := int64(4 * 365 * 24 * time.Hour)
	for i := 0; i < 20000; i++ {
		s := start.Add(time.Duration(rng.Int63n(span)))
		a := s.Add(time.Duration(rng.Int63n(int64(20 * 24 * time.Hour))))
		n := rng.Intn(6)
		taken := cal.WorkingDaysTaken(s, a)
		if (taken <= n) != cal.Within(s, a, n) {
			t.Fatalf("submitted %s answered %s n=%d: taken %d but Within=%v", s, a, n, taken, cal.Within(s, a, n))
		}
		due := cal.Due(s, n).In(london)
		if due.Hour() != 0 || due.Minute() != 0 {
			t.Fatalf("Due(%s, %d) = %s is not local midnight", s, n, due)
		}
		if last := due.AddDate(0, 0, -1); n > 0 && !cal.IsWorkingDay(last) {
			t.Fatalf("Due(%s, %d) = %s: the day before is not a working day", s, n, due)
		}
	}
}

// The embedded data must be exactly the England and Wales bank holidays,
// derived here from their rules rather than copied.
func TestDefaultHolidaysFollowTheRules(t *testing.T) {
	cal := Default()
	for year := 2025; year <= 2028; year++ {
		want := englandWalesHolidays(year)
		for d := time.Date(year, 1, 1, 12, 0, 0, 0, london); d.Year() == year; d = d.AddDate(0, 0, 1) {
			weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
			expected := !weekend && !want[d.Format(dateLayout)]
			if got := cal.IsWorkingDay(d); got != expected {
				t.Errorf("%s (%s): IsWorkingDay = %v, want %v", d.Format(dateLayout), d.Weekday(), got, expected)
			}
		}
		if len(want) != 8 {
			t.Errorf("%d: derived %d holidays, want 8", year, len(want))
		}
	}
	// Spot checks against the published dates.
	for _, d := range []string{"2025-04-18", "2025-04-21", "2026-04-03", "2026-04-06", "2027-03-26", "2027-03-29", "2028-04-14", "2028-04-17", "2026-12-28", "2027-12-27", "2027-12-28", "2028-01-03"} {
		if cal.IsWorkingDay(at(d + " 12:00")) {
			t.Errorf("%s should be a bank holiday", d)
		}
	}
}

// englandWalesHolidays applies the standing rules: New Year's Day, Good
// Friday, Easter Monday, first and last Monday of May, last Monday of
// August, Christmas and Boxing Day, weekend days moving to the next free
// weekday.
func englandWalesHolidays(year int) map[string]bool {
	day := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 12, 0, 0, 0, time.UTC) }
	firstMonday := func(m time.Month) time.Time {
		d := day(m, 1)
		for d.Weekday() != time.Monday {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	lastMonday := func(m time.Month) time.Time {
		d := day(m+1, 1).AddDate(0, 0, -1)
		for d.Weekday() != time.Monday {
			d = d.AddDate(0, 0, -1)
		}
		return d
	}
	easter := easterSunday(year)
	out := map[string]bool{}
	add := func(d time.Time) {
		for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday || out[d.Format(dateLayout)] {
			d = d.AddDate(0, 0, 1)
		}
		out[d.Format(dateLayout)] = true
	}
	add(day(time.January, 1))
	add(easter.AddDate(0, 0, -2))
	add(easter.AddDate(0, 0, 1))
	add(firstMonday(time.May))
	add(lastMonday(time.May))
	add(lastMonday(time.August))
	add(day(time.December, 25))
	add(day(time.December, 26))
	return out
}

// easterSunday is the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easterSunday(y int) time.Time {
	a, b, c := y%19, y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	dd := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), dd, 12, 0, 0, 0, time.UTC)
}

func TestCovers(t *testing.T) {
	cal := Default()
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{at("2024-12-31 23:00"), false},
		{at("2025-01-01 00:00"), true},
		{at("2028-12-31 23:59"), true},
		{time.Date(2028, 12, 31, 23, 30, 0, 0, time.FixedZone("x", -3600)), false}, // 2029 in London
		{at("2029-01-02 10:00"), false},
	} {
		if got := cal.Covers(tc.t); got != tc.want {
			t.Errorf("Covers(%s) = %v, want %v", tc.t, got, tc.want)
		}
	}
	empty, err := New(time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	if empty.Covers(at("2026-01-01 10:00")) {
		t.Error("a calendar without holidays covers no year")
	}
}

func TestParse(t *testing.T) {
	cal, err := Parse(strings.NewReader(`{"timezone": "America/New_York", "holidays": ["2026-07-03", "2026-11-26"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if cal.IsWorkingDay(time.Date(2026, 7, 3, 12, 0, 0, 0, cal.Location())) {
		t.Error("2026-07-03 is a configured holiday")
	}
	// Friday 2 July 2026 22:00 in New York is already Saturday in London
	// but is still Friday in the calendar's own zone.
	if !cal.IsWorkingDay(time.Date(2026, 7, 3, 2, 0, 0, 0, time.UTC)) {
		t.Error("02:00 UTC on 3 July is Thursday 2 July 22:00 in New York, a working day")
	}
	if !cal.Covers(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) || cal.Covers(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("Covers should be exactly 2026")
	}

	bad := []struct{ name, in, wantErr string }{
		{"not a date", `{"timezone": "Europe/London", "holidays": ["2026-13-01"]}`, `holidays[0] "2026-13-01"`},
		{"wrong date format", `{"timezone": "Europe/London", "holidays": ["2026-01-01", "25/12/2026"]}`, `holidays[1]`},
		{"unknown zone", `{"timezone": "Europe/Atlantis", "holidays": []}`, `Europe/Atlantis`},
		{"missing zone", `{"holidays": ["2026-01-01"]}`, `timezone is required`},
		{"misspelled field", `{"timezone": "Europe/London", "holiday": ["2026-01-01"]}`, `"holiday"`},
		{"not JSON", `timezone: Europe/London`, `calendar file`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("New(nil) should fail")
	}
}
