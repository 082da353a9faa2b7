package suite

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

// varRef is a ${name} reference to a TestScript variable.
var varRef = regexp.MustCompile(`\$\{([^{}]+)\}`)

// maxVarDepth stops variables defined through each other in a cycle.
const maxVarDepth = 8

// subst replaces every ${name} in s. Variables are evaluated when used,
// not when declared, as TestScript says: a variable reading a response
// header sees the response of the operation that ran last.
func (sr *scriptRun) subst(s string) (string, error) {
	return sr.substDepth(s, 0)
}

func (sr *scriptRun) substDepth(s string, depth int) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var firstErr error
	out := varRef.ReplaceAllStringFunc(s, func(m string) string {
		if firstErr != nil {
			return m
		}
		v, err := sr.variable(m[2:len(m)-1], depth+1)
		if err != nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

// variable is the value of one variable: the caller's (Options.Vars)
// first, then the script's declaration, then the runner's own.
func (sr *scriptRun) variable(name string, depth int) (string, error) {
	if depth > maxVarDepth {
		return "", failf("variable ${%s}: variables refer to each other too deeply", name)
	}
	if v, ok := sr.r.opts.Vars[name]; ok {
		return v, nil
	}
	if k := sr.r.opts.ClientKey; k != nil && (name == "clientAssertion" || name == "forgedClientAssertion") {
		return sr.assertion(k, name == "forgedClientAssertion", depth)
	}
	if v, ok := sr.vars[name]; ok {
		return sr.evalVariable(v, depth)
	}
	switch name {
	case "runId":
		return sr.r.runID, nil
	case "baseUrl":
		return sr.r.base, nil
	case "receiverUrl":
		if sr.r.opts.ReceiverURL == "" {
			return "", skipf("no rest-hook receiver: the runner was started without one")
		}
		return strings.TrimRight(sr.r.opts.ReceiverURL, "/"), nil
	}
	return "", failf("script error: variable ${%s} is not declared", name)
}

// assertion signs a fresh client assertion for the script's
// ${tokenEndpoint}, or a forged one (the right client and key id, another
// key) that a server must refuse.
func (sr *scriptRun) assertion(k *ClientKey, forged bool, depth int) (string, error) {
	aud, err := sr.variable("tokenEndpoint", depth+1)
	if err != nil {
		return "", prefixErr("client assertion: ", err)
	}
	sign := k.Assertion
	if forged {
		sign = k.ForgedAssertion
	}
	a, err := sign(aud)
	if err != nil {
		return "", failf("client assertion: %v", err)
	}
	return a, nil
}

func (sr *scriptRun) evalVariable(v Variable, depth int) (string, error) {
	switch {
	case v.HeaderField != "":
		_, header, err := sr.source(v.SourceID, "response")
		if err != nil {
			return "", prefixErr("variable ${"+v.Name+"}: ", err)
		}
		if h := header.Get(v.HeaderField); h != "" {
			return h, nil
		}
		if v.DefaultValue != "" {
			return v.DefaultValue, nil
		}
		return "", failf("variable ${%s}: the response has no %s header", v.Name, v.HeaderField)
	case v.Expression != "" || v.Path != "":
		body, _, err := sr.source(v.SourceID, "response")
		if err != nil {
			return "", prefixErr("variable ${"+v.Name+"}: ", err)
		}
		expr := v.Expression
		if expr == "" {
			expr = toFHIRPath(v.Path)
		}
		if expr, err = sr.substDepth(expr, depth); err != nil {
			return "", err
		}
		vals, err := evalExpr(expr, body)
		if err != nil {
			return "", failf("variable ${%s}: %s: %v", v.Name, expr, err)
		}
		if len(vals) > 0 {
			return valueString(vals[0]), nil
		}
		if v.DefaultValue != "" {
			return v.DefaultValue, nil
		}
		return "", failf("variable ${%s}: %s found nothing", v.Name, expr)
	case v.DefaultValue != "":
		return sr.substDepth(v.DefaultValue, depth)
	}
	hint := ""
	if v.Hint != "" {
		hint = " (hint: " + v.Hint + ")"
	}
	return "", skipf("variable ${%s} has no value%s: give it one with --var %s=VALUE", v.Name, hint, v.Name)
}

func prefixErr(prefix string, err error) error {
	return &stepError{statusOf(err), prefix + err.Error()}
}

// source is the JSON body and headers that a variable or an assertion
// reads: the fixture (or kept request/response) named id, else the last
// request or response. A missing fixture skips; an id nothing declares is
// a script error.
func (sr *scriptRun) source(id, direction string) (map[string]any, http.Header, error) {
	if id == "" {
		if sr.last == nil {
			return nil, nil, failf("no operation has run yet")
		}
		if direction == "request" {
			return sr.last.reqJSON, sr.last.reqHeader, nil
		}
		return sr.last.json, sr.last.header, nil
	}
	f, ok := sr.fixtures[id]
	switch {
	case !ok && sr.declares(id):
		return nil, nil, skipf("%s: the operation that keeps it has not run", id)
	case !ok:
		return nil, nil, failf("script error: no fixture, requestId or responseId %q", id)
	case f.missing != "":
		return nil, nil, skipf("%s", f.missing)
	case f.ex != nil && f.request:
		return f.ex.reqJSON, f.ex.reqHeader, nil
	case f.ex != nil:
		return f.ex.json, f.ex.header, nil
	}
	body, err := sr.substJSON(f.body) // a fixture is a template: ${runId} and the like filled in
	if err != nil {
		return nil, nil, err
	}
	return body.(map[string]any), http.Header{}, nil
}

// declares reports whether an operation of the script keeps a request or
// response under id.
func (sr *scriptRun) declares(id string) bool {
	var sections [][]Action
	if sr.ts.Setup != nil {
		sections = append(sections, sr.ts.Setup.Action)
	}
	for _, t := range sr.ts.Test {
		sections = append(sections, t.Action)
	}
	for _, acts := range sections {
		for _, a := range acts {
			if o := a.Operation; o != nil && (o.ResponseID == id || o.RequestID == id) {
				return true
			}
		}
	}
	return false
}

// substJSON copies a decoded JSON value with variables substituted in
// every string, so fixtures can carry ${runId} in identifiers and names.
// A Binary's data is substituted in its decoded content.
func (sr *scriptRun) substJSON(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return sr.subst(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var err error
			if out[i], err = sr.substJSON(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			var err error
			if out[k], err = sr.substJSON(e); err != nil {
				return nil, err
			}
		}
		if out["resourceType"] == "Binary" {
			if data, ok := x["data"].(string); ok && strings.Contains(decodeBase64(data), "${") {
				s, err := sr.subst(decodeBase64(data))
				if err != nil {
					return nil, err
				}
				out["data"] = base64.StdEncoding.EncodeToString([]byte(s))
			}
		}
		return out, nil
	}
	return v, nil
}

func decodeBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return ""
	}
	return string(b)
}
