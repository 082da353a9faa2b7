package stats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"time"
)

// Parameters is r as an R4 Parameters resource:
//
//	start, end            valueDateTime, the range (when set)
//	practice              valueReference (when the Query names one)
//	submitted, answered, cancelled, open   valueInteger
//	outcome               one per advice-outcome code, parts: code
//	                      (valueCoding), count (valueInteger), share
//	                      (valueDecimal, of answered)
//	answered-within       one per 1, 2, 3 working days, parts:
//	                      working-days, count (valueInteger), share
//	                      (valueDecimal, of answered)
//	turnaround-working-days, turnaround-hours   parts: median, p85
//	                      (valueDecimal; nearest rank), when any answered
//	fast-track, override, more-information      parts: count
//	                      (valueInteger), rate (valueDecimal, of submitted)
//	practice-volume       one per practice, parts: organization
//	                      (valueReference; absent for the unattributed),
//	                      submitted, answered, cancelled, open, fast-track
//	                      (valueInteger)
//
// Shares and rates are decimals with four places (0.4700).
func (r Result) Parameters() []byte {
	var ps []any
	add := func(p ...any) { ps = append(ps, p...) }
	if !r.From.IsZero() {
		add(param("start", "valueDateTime", dateTime(r.From)))
	}
	if !r.To.IsZero() {
		add(param("end", "valueDateTime", dateTime(r.To)))
	}
	if r.Practice != "" {
		add(param("practice", "valueReference", map[string]any{"reference": localRef(r.Practice)}))
	}
	add(param("submitted", "valueInteger", r.Submitted), param("answered", "valueInteger", r.Answered),
		param("cancelled", "valueInteger", r.Cancelled), param("open", "valueInteger", r.Open))
	for _, c := range r.Outcomes {
		add(parts("outcome",
			param("code", "valueCoding", map[string]any{"system": AdviceOutcomeSystem, "code": c.Key}),
			param("count", "valueInteger", c.N), param("share", "valueDecimal", share(c.Share))))
	}
	for i, c := range r.Within {
		add(parts("answered-within",
			param("working-days", "valueInteger", WithinDays[i]),
			param("count", "valueInteger", c.N), param("share", "valueDecimal", share(c.Share))))
	}
	if r.Answered > 0 {
		add(parts("turnaround-working-days",
			param("median", "valueDecimal", json.Number(strconv.Itoa(r.MedianWorkingDays))),
			param("p85", "valueDecimal", json.Number(strconv.Itoa(r.P85WorkingDays)))))
		add(parts("turnaround-hours",
			param("median", "valueDecimal", hoursNumber(r.MedianHours)),
			param("p85", "valueDecimal", hoursNumber(r.P85Hours))))
	}
	for _, c := range []struct {
		name string
		Count
	}{{"fast-track", r.FastTrack}, {"override", r.Override}, {"more-information", r.MoreInformation}} {
		add(parts(c.name, param("count", "valueInteger", c.N), param("rate", "valueDecimal", share(c.Share))))
	}
	for _, p := range r.Practices {
		var org []any
		if p.Organization != "" {
			org = append(org, param("organization", "valueReference", map[string]any{"reference": p.Organization}))
		}
		add(parts("practice-volume", append(org,
			param("submitted", "valueInteger", p.Submitted), param("answered", "valueInteger", p.Answered),
			param("cancelled", "valueInteger", p.Cancelled), param("open", "valueInteger", p.Open),
			param("fast-track", "valueInteger", p.FastTrack))...))
	}
	out, _ := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": ps})
	return out
}

// CSV is r as comma-separated values in two sections: "metric,value" with
// one row per number (the Parameters names, dotted: outcome.advice-only.count,
// answered-within.3.share, turnaround.hours.p85, fast-track.rate ...), a
// blank line, then one row per practice.
func (r Result) CSV() []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	row := func(cells ...string) { _ = w.Write(cells) }
	row("metric", "value")
	if !r.From.IsZero() {
		row("start", dateTime(r.From))
	}
	if !r.To.IsZero() {
		row("end", dateTime(r.To))
	}
	if r.Practice != "" {
		row("practice", localRef(r.Practice))
	}
	row("submitted", strconv.Itoa(r.Submitted))
	row("answered", strconv.Itoa(r.Answered))
	row("cancelled", strconv.Itoa(r.Cancelled))
	row("open", strconv.Itoa(r.Open))
	for _, c := range r.Outcomes {
		row("outcome."+c.Key+".count", strconv.Itoa(c.N))
		row("outcome."+c.Key+".share", string(share(c.Share)))
	}
	for _, c := range r.Within {
		row("answered-within."+c.Key+".count", strconv.Itoa(c.N))
		row("answered-within."+c.Key+".share", string(share(c.Share)))
	}
	if r.Answered > 0 {
		row("turnaround.working-days.median", strconv.Itoa(r.MedianWorkingDays))
		row("turnaround.working-days.p85", strconv.Itoa(r.P85WorkingDays))
		row("turnaround.hours.median", string(hoursNumber(r.MedianHours)))
		row("turnaround.hours.p85", string(hoursNumber(r.P85Hours)))
	}
	for _, c := range []Count{r.FastTrack, r.Override, r.MoreInformation} {
		row(c.Key+".count", strconv.Itoa(c.N))
		row(c.Key+".rate", string(share(c.Share)))
	}
	w.Flush()
	buf.WriteString("\n")
	row("practice", "submitted", "answered", "cancelled", "open", "fast-track")
	for _, p := range r.Practices {
		org := p.Organization
		if org == "" {
			org = "unattributed"
		}
		row(org, strconv.Itoa(p.Submitted), strconv.Itoa(p.Answered), strconv.Itoa(p.Cancelled), strconv.Itoa(p.Open), strconv.Itoa(p.FastTrack))
	}
	w.Flush()
	return buf.Bytes()
}

func param(name, valueKey string, value any) map[string]any {
	return map[string]any{"name": name, valueKey: value}
}

func parts(name string, ps ...any) map[string]any {
	return map[string]any{"name": name, "part": ps}
}

func share(f float64) json.Number       { return json.Number(strconv.FormatFloat(f, 'f', 4, 64)) }
func hoursNumber(h float64) json.Number { return json.Number(strconv.FormatFloat(h, 'f', 2, 64)) }

func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
