package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// The runner evaluates TestScript expressions with the repository's
// FHIRPath package, which implements the subset search parameters need.
// Assertions also use comparisons (>=, <, ...) and conversions
// (toInteger()); this file adds those on top, at the top level of an
// expression, rather than growing the search engine's evaluator.

var compiled sync.Map // expression -> *fhirpath.Expr

func compile(expr string) (*fhirpath.Expr, error) {
	if e, ok := compiled.Load(expr); ok {
		return e.(*fhirpath.Expr), nil
	}
	e, err := fhirpath.Compile(expr)
	if err != nil {
		return nil, err
	}
	compiled.Store(expr, e)
	return e, nil
}

// xpathIndex is an XPath position predicate ([1] is the first item).
var xpathIndex = regexp.MustCompile(`\[(\d+)\]`)

// toFHIRPath reads a TestScript path as FHIRPath. R4 examples use XPath
// over the XML form (fhir:Patient/fhir:name/fhir:family/@value) and JSON
// paths (Patient/id, $.entry[0]); both name the same elements as
// FHIRPath, so they are rewritten rather than given evaluators of their own.
func toFHIRPath(p string) string {
	p = strings.TrimSpace(p)
	xpath := strings.Contains(p, "/") || strings.Contains(p, "fhir:")
	p = strings.TrimPrefix(p, "$.")
	p = strings.ReplaceAll(p, "fhir:", "")
	p = strings.ReplaceAll(p, "/@value", "")
	p = strings.TrimSuffix(p, "@value")
	if xpath {
		p = strings.Trim(p, "/")
		p = strings.ReplaceAll(p, "/", ".")
		p = xpathIndex.ReplaceAllStringFunc(p, func(m string) string {
			n, _ := strconv.Atoi(m[1 : len(m)-1])
			return "[" + strconv.Itoa(max(n-1, 0)) + "]"
		})
	}
	return p
}

// evalExpr evaluates a FHIRPath expression on a JSON body and returns the
// JSON values of the result.
func evalExpr(expr string, body map[string]any) ([]any, error) {
	if body == nil {
		return nil, errors.New("no JSON body to evaluate it on")
	}
	expr = strings.TrimSpace(expr)
	if e, err := compile(expr); err == nil {
		return evalCompiled(e, body)
	} else if r, ok, gerr := evalGlue(expr, body); ok {
		return r, gerr
	} else {
		return nil, err
	}
}

func evalCompiled(e *fhirpath.Expr, body map[string]any) ([]any, error) {
	nodes, err := e.Eval(body)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(nodes))
	for i, n := range nodes {
		out[i] = n.Value
	}
	return out, nil
}

// evalGlue evaluates what the FHIRPath package does not: top-level or/and
// over comparisons, the comparisons > >= < <=, and a trailing conversion
// (toInteger(), toDecimal(), toString()). ok is false when expr has none of
// these, so the caller reports the package's own compile error.
func evalGlue(expr string, body map[string]any) (out []any, ok bool, err error) {
	for _, word := range []string{"or", "and"} {
		if parts := splitTop(expr, " "+word+" "); len(parts) > 1 {
			result := word == "and"
			for _, p := range parts {
				v, err := evalExpr(p, body)
				if err != nil {
					return nil, true, err
				}
				b := truthy(v)
				if word == "or" {
					result = result || b
				} else {
					result = result && b
				}
			}
			return []any{result}, true, nil
		}
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if parts := splitTop(expr, op); len(parts) == 2 {
			l, err := evalExpr(parts[0], body)
			if err != nil {
				return nil, true, err
			}
			r, err := evalExpr(parts[1], body)
			if err != nil {
				return nil, true, err
			}
			if len(l) == 0 || len(r) == 0 {
				return nil, true, nil // FHIRPath: a comparison with empty is empty
			}
			c := compareValues(valueString(l[0]), valueString(r[0]))
			res := map[string]bool{">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0}[op]
			return []any{res}, true, nil
		}
	}
	for _, conv := range []string{".toInteger()", ".toDecimal()", ".toString()"} {
		if inner, found := strings.CutSuffix(expr, conv); found {
			v, err := evalExpr(inner, body)
			if err != nil {
				return nil, true, err
			}
			out, err := convert(v, conv)
			return out, true, err
		}
	}
	return nil, false, nil
}

func convert(v []any, conv string) ([]any, error) {
	if len(v) == 0 {
		return nil, nil
	}
	if len(v) > 1 {
		return nil, fmt.Errorf("%s on %d items", conv, len(v))
	}
	s := valueString(v[0])
	switch conv {
	case ".toString()":
		return []any{s}, nil
	case ".toInteger()":
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, nil // not convertible: empty, as FHIRPath says
		}
	case ".toDecimal()":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return nil, nil
		}
	}
	return []any{json.Number(s)}, nil
}

// splitTop splits expr at sep where sep is outside strings, backquoted
// names, parentheses and brackets. Comparison operators do not split at
// "!=" and the "<"/">" of "<="/">=" when looking for the one-char forms.
func splitTop(expr, sep string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '`':
			quote = c
			continue
		case '(', '[', '{':
			depth++
			continue
		case ')', ']', '}':
			depth--
			continue
		}
		if depth != 0 || !strings.HasPrefix(expr[i:], sep) {
			continue
		}
		if (sep == ">" || sep == "<") && i+1 < len(expr) && expr[i+1] == '=' {
			continue
		}
		parts = append(parts, strings.TrimSpace(expr[start:i]))
		i += len(sep) - 1
		start = i + 1
	}
	if parts == nil {
		return []string{expr}
	}
	return append(parts, strings.TrimSpace(expr[start:]))
}

// truthy is how an assertion reads an expression result: a single boolean
// is its value, anything else non-empty is true (the "exists" reading
// TestScript engines use), empty is false.
func truthy(v []any) bool {
	if len(v) == 0 {
		return false
	}
	if len(v) == 1 {
		if b, ok := v[0].(bool); ok {
			return b
		}
	}
	return true
}

// valueString is the text of a JSON value as assertions compare it.
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// compareValues orders two values: as numbers when both are numbers, else
// as text (FHIR dates and instants of one precision order as text).
func compareValues(a, b string) int {
	fa, errA := strconv.ParseFloat(strings.TrimSpace(a), 64)
	fb, errB := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if errA == nil && errB == nil {
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}
