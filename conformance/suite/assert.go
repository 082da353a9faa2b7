package suite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// responseCodes are the TestScript assert "response" codes.
var responseCodes = map[string]int{
	"okay": 200, "created": 201, "noContent": 204, "notModified": 304,
	"bad": 400, "forbidden": 403, "notFound": 404, "methodNotAllowed": 405,
	"conflict": 409, "gone": 410, "preconditionFailed": 412, "unprocessable": 422,
}

// assert evaluates one assertion: pass, fail (with what was expected and
// what came back) or skip (with why it cannot be judged).
func (sr *scriptRun) assert(a *Assert) (Status, string) {
	st, msg, err := sr.check(a)
	if err != nil {
		return statusOf(err), err.Error()
	}
	return st, msg
}

func (sr *scriptRun) check(a *Assert) (Status, string, error) {
	if a.ValidateProfileID != "" {
		return Skip, fmt.Sprintf("no profile validation in the runner (profile %s)", a.ValidateProfileID), nil
	}
	direction := a.Direction
	if direction == "" {
		direction = "response"
	}
	value, err := sr.subst(a.Value)
	if err != nil {
		return "", "", err
	}
	// The exchange an assertion judges: the operation that ran last, or
	// the request or response kept under sourceId.
	var ex *exchange
	if a.SourceID != "" {
		if f, ok := sr.fixtures[a.SourceID]; ok && f.ex != nil {
			ex = f.ex
			if f.request {
				direction = "request"
			}
		}
	} else {
		ex = sr.last
	}
	needExchange := func() error {
		if ex == nil {
			if a.SourceID != "" {
				_, _, err := sr.source(a.SourceID, direction)
				if err != nil {
					return err
				}
				return failf("%s is not a request or response", a.SourceID)
			}
			return failf("no operation has run before this assertion")
		}
		return nil
	}

	switch {
	case a.ResponseCode != "":
		if err := needExchange(); err != nil {
			return "", "", err
		}
		return verdict(a.Operator, "equals", []string{strconv.Itoa(ex.status)}, a.ResponseCode, "response code", ex)
	case a.Response != "":
		if err := needExchange(); err != nil {
			return "", "", err
		}
		code, ok := responseCodes[a.Response]
		if !ok {
			return Fail, fmt.Sprintf("script error: unknown response code %q", a.Response), nil
		}
		st, msg, err := verdict(a.Operator, "equals", []string{strconv.Itoa(ex.status)}, strconv.Itoa(code), "response code", ex)
		if st == Fail {
			msg = strings.Replace(msg, "expected "+strconv.Itoa(code), fmt.Sprintf("expected %d (%s)", code, a.Response), 1)
		}
		return st, msg, err
	case a.ContentType != "":
		if err := needExchange(); err != nil {
			return "", "", err
		}
		want, asked := formatMime(a.ContentType)
		if asked != "" {
			return Skip, fmt.Sprintf("format %s: the runner speaks JSON only", asked), nil
		}
		h := ex.header
		if direction == "request" {
			h = ex.reqHeader
		}
		return verdict(a.Operator, "equals", nonEmpty(mediaType(h.Get("Content-Type"))), mediaType(want), "Content-Type", nil)
	case a.HeaderField != "":
		if err := needExchange(); err != nil {
			return "", "", err
		}
		h := ex.header
		if direction == "request" {
			h = ex.reqHeader
			field := http.CanonicalHeaderKey(a.HeaderField)
			if ex.format != "" && (field == "Accept" || field == "Content-Type") && strings.Contains(value, ex.format) {
				return Skip, fmt.Sprintf("format %s: the runner speaks JSON only and sent JSON", ex.format), nil
			}
		}
		def := "equals"
		if value == "" {
			def = "notEmpty"
		}
		return verdict(a.Operator, def, nonEmpty(h.Values(a.HeaderField)...), value, "header "+a.HeaderField, nil)
	case a.RequestMethod != "":
		if err := needExchange(); err != nil {
			return "", "", err
		}
		return verdict(a.Operator, "equals", []string{strings.ToLower(ex.method)}, strings.ToLower(a.RequestMethod), "request method", nil)
	case a.RequestURL != "":
		if err := needExchange(); err != nil {
			return "", "", err
		}
		want, err := sr.subst(a.RequestURL)
		if err != nil {
			return "", "", err
		}
		return verdict(a.Operator, "equals", []string{ex.url}, want, "request URL", nil)
	case a.Resource != "":
		body, _, err := sr.assertBody(a.SourceID, direction)
		if err != nil {
			return "", "", err
		}
		rt, _ := body["resourceType"].(string)
		return verdict(a.Operator, "equals", nonEmpty(rt), a.Resource, "resourceType", ex)
	case a.MinimumID != "":
		body, _, err := sr.assertBody(a.SourceID, direction)
		if err != nil {
			return "", "", err
		}
		want, _, err := sr.source(a.MinimumID, "")
		if err != nil {
			return "", "", prefixErr("minimumId: ", err)
		}
		w, err := sr.substJSON(want)
		if err != nil {
			return "", "", err
		}
		if miss := minimum(w.(map[string]any), body); miss != "" {
			return Fail, fmt.Sprintf("minimumId %s: %s", a.MinimumID, miss), nil
		}
		return Pass, "response holds every element of " + a.MinimumID, nil
	case a.NavigationLinks != nil:
		body, _, err := sr.assertBody(a.SourceID, direction)
		if err != nil {
			return "", "", err
		}
		if miss := navigationLinks(body); miss != "" && *a.NavigationLinks {
			return Fail, "navigation links: " + miss, nil
		}
		return Pass, "navigation links checked", nil
	case a.Expression != "" || a.Path != "" || a.CompareToSourceID != "":
		return sr.checkExpression(a, direction, value)
	}
	return Skip, "the runner does not know what this assertion checks", nil
}

// assertBody is the JSON body an assertion reads.
func (sr *scriptRun) assertBody(sourceID, direction string) (map[string]any, http.Header, error) {
	body, h, err := sr.source(sourceID, direction)
	if err != nil {
		return nil, nil, err
	}
	if body == nil {
		return nil, nil, failf("the %s has no JSON body", direction)
	}
	return body, h, nil
}

// checkExpression judges expression, path and compareToSource assertions.
func (sr *scriptRun) checkExpression(a *Assert, direction, value string) (Status, string, error) {
	expr := a.Expression
	if expr == "" && a.Path != "" {
		expr = toFHIRPath(a.Path)
	}
	var want []string
	wantDesc := ""
	if a.CompareToSourceID != "" {
		src, _, err := sr.source(a.CompareToSourceID, "")
		if err != nil {
			return "", "", prefixErr("compareToSourceId: ", err)
		}
		cexpr := a.CompareToSourceExpression
		if cexpr == "" {
			cexpr = toFHIRPath(a.CompareToSourcePath)
		}
		if cexpr == "" {
			return Fail, "script error: compareToSourceId without compareToSourceExpression or compareToSourcePath", nil
		}
		if cexpr, err = sr.subst(cexpr); err != nil {
			return "", "", err
		}
		v, err := evalExpr(cexpr, src)
		if err != nil {
			return Fail, fmt.Sprintf("%s on %s: %v", cexpr, a.CompareToSourceID, err), nil
		}
		want = strs(v)
		if len(want) == 0 {
			return Fail, fmt.Sprintf("%s found nothing in %s to compare with", cexpr, a.CompareToSourceID), nil
		}
		wantDesc = fmt.Sprintf(" (%s of %s)", cexpr, a.CompareToSourceID)
		if expr == "" {
			expr = cexpr // the same element of the response
		}
	}
	expr, err := sr.subst(expr)
	if err != nil {
		return "", "", err
	}
	body, _, err := sr.assertBody(a.SourceID, direction)
	if err != nil {
		return "", "", err
	}
	got, err := evalExpr(expr, body)
	if err != nil {
		return Fail, fmt.Sprintf("%s: %v", expr, err), nil
	}
	switch {
	case want != nil:
		st, msg, err := verdict(a.Operator, "equals", strs(got), want[0], expr, nil)
		return st, msg + wantDesc, err
	case value != "" || (a.Operator != "" && a.Operator != "eval"):
		return verdict(a.Operator, "equals", strs(got), value, expr, nil)
	}
	if truthy(got) {
		return Pass, expr + " is true", nil
	}
	return Fail, fmt.Sprintf("%s: expected true, got %s", expr, describe(strs(got))), nil
}

// verdict applies an operator (def when the assertion names none) to the
// actual values and says what was expected and what came back. With ex,
// a failure also quotes the server's OperationOutcome.
func verdict(op, def string, actual []string, expected, what string, ex *exchange) (Status, string, error) {
	if op == "" {
		op = def
	}
	ok, want, err := compareOp(op, actual, expected)
	if err != nil {
		return Fail, fmt.Sprintf("script error: %v", err), nil
	}
	if ok {
		return Pass, fmt.Sprintf("%s %s", what, want), nil
	}
	msg := fmt.Sprintf("%s: expected %s, got %s", what, want, describe(actual))
	if ex != nil {
		msg += outcomeText(ex.json)
	}
	return Fail, msg, nil
}

// compareOp applies a TestScript operator. equals, notEquals, in, notIn,
// greaterThan and lessThan judge the first value (an XPath engine compares
// the first node the same way); contains and notContains judge any value.
func compareOp(op string, actual []string, expected string) (ok bool, want string, err error) {
	first, has := "", len(actual) > 0
	if has {
		first = actual[0]
	}
	switch op {
	case "equals":
		return has && first == expected, quote(expected), nil
	case "notEquals":
		return !has || first != expected, "not " + quote(expected), nil
	case "in", "notIn":
		in := false
		for _, v := range strings.Split(expected, ",") {
			if has && strings.TrimSpace(v) == first {
				in = true
			}
		}
		if op == "in" {
			return in, "one of " + expected, nil
		}
		return !in, "none of " + expected, nil
	case "greaterThan":
		return has && compareValues(first, expected) > 0, "greater than " + expected, nil
	case "lessThan":
		return has && compareValues(first, expected) < 0, "less than " + expected, nil
	case "empty":
		return !has, "nothing", nil
	case "notEmpty":
		return has, "a value", nil
	case "contains", "notContains":
		found := false
		for _, v := range actual {
			if strings.Contains(v, expected) {
				found = true
			}
		}
		if op == "contains" {
			return found, fmt.Sprintf("to contain %q", expected), nil
		}
		return !found, fmt.Sprintf("not to contain %q", expected), nil
	case "eval":
		return has && first == "true", "true", nil
	}
	return false, "", fmt.Errorf("unknown operator %q", op)
}

// quote quotes a text value; numbers and codes such as 201, and JSON
// objects, read better bare.
func quote(s string) string {
	if _, err := strconv.ParseFloat(s, 64); err == nil || strings.HasPrefix(s, "{") {
		return s
	}
	return strconv.Quote(s)
}

// describe is how "got" reads in a failure message.
func describe(actual []string) string {
	switch len(actual) {
	case 0:
		return "nothing"
	case 1:
		return clip(quote(actual[0]), 200)
	}
	b, _ := json.Marshal(actual)
	return clip(string(b), 200)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// outcomeText quotes an OperationOutcome's first issue, so a failure says
// why the server refused.
func outcomeText(body map[string]any) string {
	if body == nil || body["resourceType"] != "OperationOutcome" {
		return ""
	}
	issues, _ := body["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	is, _ := issues[0].(map[string]any)
	return clip(fmt.Sprintf(" (OperationOutcome: %v: %v)", is["code"], is["diagnostics"]), 300)
}

func nonEmpty(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func strs(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = valueString(v)
	}
	return out
}

// minimum reports the first element of want missing from got ("" when got
// holds every one). At the root, id and meta are left out: the server
// owns them, and a fixture's id is a template's. Repeating elements match
// when each wanted item is within some item of got, in any order.
func minimum(want, got map[string]any) string {
	keys := make([]string, 0, len(want))
	for k := range want {
		if k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	rt, _ := want["resourceType"].(string)
	for _, k := range keys {
		if miss := within(want[k], got[k], rt+"."+k); miss != "" {
			return miss
		}
	}
	return ""
}

func within(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": missing from the response"
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if miss := within(w[k], g[k], path+"."+k); miss != "" {
				return miss
			}
		}
		return ""
	case []any:
		g, _ := got.([]any)
		for i, item := range w {
			found := false
			for _, gi := range g {
				if within(item, gi, "") == "" {
					found = true
					break
				}
			}
			if !found {
				return fmt.Sprintf("%s[%d]: no matching item in the response", path, i)
			}
		}
		return ""
	}
	if got == nil {
		return path + ": missing from the response"
	}
	ws, gs := valueString(want), valueString(got)
	if ws == gs || isNumber(want) && isNumber(got) && compareValues(ws, gs) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: expected %q, got %q", path, ws, gs)
}

func isNumber(v any) bool {
	_, ok := v.(json.Number)
	return ok
}

// navigationLinks checks a Bundle's paging links: a self link, every link
// with a relation and an absolute url, and a next link whenever total says
// there are more matches than the page holds. (first/last are not
// required: servers paging by cursor cannot give a last page.)
func navigationLinks(body map[string]any) string {
	if body["resourceType"] != "Bundle" {
		return fmt.Sprintf("expected a Bundle, got %v", body["resourceType"])
	}
	links, _ := body["link"].([]any)
	rels := map[string]bool{}
	for i, l := range links {
		m, _ := l.(map[string]any)
		rel, _ := m["relation"].(string)
		u, _ := m["url"].(string)
		if rel == "" || !strings.Contains(u, "://") {
			return fmt.Sprintf("link[%d] needs a relation and an absolute url, got %v", i, l)
		}
		rels[rel] = true
	}
	if !rels["self"] {
		return "expected a self link, got none"
	}
	entries, _ := body["entry"].([]any)
	matches := 0
	for _, e := range entries {
		m, _ := e.(map[string]any)
		s, _ := m["search"].(map[string]any)
		if mode, _ := s["mode"].(string); mode == "" || mode == "match" {
			matches++
		}
	}
	if t, ok := body["total"].(json.Number); ok {
		if n, err := t.Int64(); err == nil && n > int64(matches) && !rels["next"] {
			return fmt.Sprintf("total is %d with %d matches on this page, and no next link", n, matches)
		}
	}
	return ""
}
