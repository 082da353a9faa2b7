// Package stats computes the teledermatology service's published numbers
// from stored resources: the referral ServiceRequests, their Tasks and the
// advice DiagnosticReports (profiles/README.md), counted in working days
// by a workdays Calendar. Compute is pure; Load fetches what it needs
// through a system search; Operation serves it as ServiceRequest/$stats.
//
// Definitions (a referral is a ServiceRequest whose performerType is sct
// 18803008 or 700241009; drafts and entered-in-error are left out):
//
//   - Submission time: the referral's Task executionPeriod.start (the
//     latest submission), else Task.authoredOn, else (no Task: data
//     written before the workflow) ServiceRequest.authoredOn. The range
//     [start, end) selects on it.
//   - Practice: when the requester is a PractitionerRole, its
//     organization; otherwise the Patient's first generalPractitioner
//     that is an Organization. Referrals with neither are "unattributed".
//   - Advice: a DiagnosticReport basedOn the referral, status final,
//     amended or corrected, with a conclusionCode in the advice-outcome
//     code system.
//   - Answered: some advice was issued at or after the submission time.
//     Answer time: the Task's executionPeriod.end (the stopped clock) when
//     set and not before the submission, else the first such advice's
//     issued. Outcome: the latest such advice's code. Cancelled: not
//     answered and the ServiceRequest revoked. Open: neither.
//   - Within N working days: Calendar.Within(submitted, answered, N), as a
//     share of the answered.
//   - Turnaround: Calendar.WorkingDaysTaken (0 = same day) and elapsed
//     hours, median and 85th percentile over the answered, by the
//     nearest-rank method: the value at rank ceil(p/100 * n) of the sorted
//     values (so both are values that occurred; no interpolation).
//   - Fast-track: the triage-result extension's pathway is
//     suspected-cancer. Override: a triage-override extension is present.
//     More-information: any advice with that outcome, submitted or not
//     since. All three are rates of the submitted.
package stats
