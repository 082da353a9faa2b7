// Package workdays is the working-day calendar behind the referral SLA
// clock: Monday to Friday, minus a configurable list of bank holidays, in a
// configured time zone (Europe/London by default, with the England and
// Wales bank holidays 2025-2028 embedded).
//
// Days are civil dates in the calendar's zone, so a clock change never
// moves a deadline: a due date is always 00:00 local time of the day after
// the last working day allowed.
//
// Conventions (shared by Due, WorkingDaysTaken and Within, so that
// WorkingDaysTaken(s, a) <= n exactly when Within(s, a, n)):
//   - the day of submission never counts, whatever the time of day;
//   - a submission on a weekend or holiday starts counting from the next
//     working day;
//   - an answer on a weekend or holiday counts as the next working day.
//
// Outside the years the holiday data covers only weekends are skipped;
// Covers lets callers warn about that.
package workdays
