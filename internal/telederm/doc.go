// Package telederm is the teledermatology workflow on top of the FHIR
// server: a rest.CommitHook that triages a skin-lesion referral when the
// GP submits it, keeps one Task per referral in step with the referral's
// state (profiles/README.md has the state table), takes the consultant's
// advice (a DiagnosticReport) back, stops the SLA clock, and refuses
// forbidden transitions with 409. It also answers $triage and $worklist
// and flags overdue referrals.
//
// Everything it writes goes into the same atomic commit as the client's
// write, so a referral is never seen without its Task, nor advice without
// the Task it completed.
//
// Subpackages hold the parts with no I/O: triage (pathway rules),
// workdays (the SLA calendar), stats (the service's numbers) and
// published (the profiles the server serves).
package telederm
