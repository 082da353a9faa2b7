package stats

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/internal/rest"
	"github.com/telederm/telederm/internal/telederm/workdays"
)

// OperationURL is the canonical URL of $stats's OperationDefinition.
const OperationURL = tdm + "OperationDefinition/ServiceRequest-stats"

// Operation is ServiceRequest/$stats (GET or POST, type level):
//
//	start     date or dateTime, inclusive (a date is midnight in the
//	          calendar's zone); optional
//	end       date or dateTime, exclusive; optional
//	practice  Organization/id (or its id); optional
//	_format   csv or text/csv for the CSV export; Parameters otherwise
//
// search must run with the server's own rights (rest.Service.SystemSearch):
// the caller's access is the route's business.
func Operation(search SearchFunc, cal *workdays.Calendar) rest.Operation {
	return rest.Operation{
		Name: "stats", Type: "ServiceRequest", Definition: OperationURL,
		TypeLevel: true, Idempotent: true,
		Run: func(ctx context.Context, _ string, params url.Values, _ []byte) rest.Response {
			q, o := parseQuery(params, cal.Location())
			if o != nil {
				return rest.Response{Status: http.StatusBadRequest, Body: o.JSON(), Outcome: o}
			}
			res, err := Run(ctx, search, cal, q)
			if err != nil {
				o := fhir.NewOutcome(fhir.SeverityError, fhir.CodeException, "the statistics could not be computed")
				return rest.Response{Status: http.StatusInternalServerError, Body: o.JSON(), Outcome: o}
			}
			if f := strings.ToLower(params.Get("_format")); f == "csv" || f == "text/csv" {
				return rest.Response{Status: http.StatusOK, Body: res.CSV(), ContentType: "text/csv; charset=utf-8"}
			}
			return rest.Response{Status: http.StatusOK, Body: res.Parameters()}
		},
	}
}

// parseQuery reads start, end and practice.
func parseQuery(params url.Values, loc *time.Location) (Query, *fhir.Outcome) {
	var q Query
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"start", &q.From}, {"end", &q.To}} {
		v := params.Get(p.name)
		if v == "" {
			continue
		}
		t, ok := parseTime(v, loc)
		if !ok {
			return q, fhir.NewOutcome(fhir.SeverityError, fhir.CodeValue, "$stats: "+p.name+" must be a date (YYYY-MM-DD) or dateTime, not "+quote(v))
		}
		*p.dst = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, fhir.NewOutcome(fhir.SeverityError, fhir.CodeValue, "$stats: start must be before end")
	}
	if v := params.Get("practice"); v != "" {
		if !strings.Contains(v, "/") {
			v = "Organization/" + v
		}
		if refType(v) != "Organization" || strings.HasSuffix(v, "/") {
			return q, fhir.NewOutcome(fhir.SeverityError, fhir.CodeValue, "$stats: practice must be an Organization reference (Organization/id), not "+quote(v))
		}
		q.Practice = localRef(v)
	}
	return q, nil
}

func parseTime(v string, loc *time.Location) (time.Time, bool) {
	if d, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return d, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + s + `"`
}
