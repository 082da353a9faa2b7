package fhirpath

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// singleString reads the input of a string function: ok is false when it
// is empty; more than one item, or one that is not a string, is an error.
func singleString(in []Node, fn string) (string, bool, error) {
	switch len(in) {
	case 0:
		return "", false, nil
	case 1:
		if s, ok := in[0].Value.(string); ok {
			return s, true, nil
		}
		return "", false, fmt.Errorf("%s: expected a string, found %s", fn, kindOf(in[0]))
	}
	return "", false, fmt.Errorf("%s: %w, got %d", fn, errSingleton, len(in))
}

// stringArg evaluates a function argument (against the enclosing $this) to
// one string; ok is false when it is empty.
func stringArg(c *evalCtx, s step, fn string) (string, bool, error) {
	v, err := s.eval(c, c.args())
	if err != nil {
		return "", false, err
	}
	return singleString(v, fn)
}

// argInteger evaluates a function argument to one integer.
func argInteger(c *evalCtx, s step, fn string) (int, bool, error) {
	v, err := s.eval(c, c.args())
	if err != nil || len(v) == 0 {
		return 0, false, err
	}
	if len(v) > 1 {
		return 0, false, fmt.Errorf("%s: %w, got %d", fn, errSingleton, len(v))
	}
	n, ok := v[0].Value.(json.Number)
	i, err := strconv.Atoi(string(n))
	if !ok || err != nil {
		return 0, false, fmt.Errorf("%s: expected an integer argument, found %s", fn, kindOf(v[0]))
	}
	return i, true, nil
}

// matchesStep is matches(regex): whether the regular expression (Go RE2
// syntax) matches anywhere in the string; anchor it with ^...$ to match
// the whole. A literal pattern is compiled once, at Compile.
type matchesStep struct {
	re  *regexp.Regexp
	arg step
}

func buildMatches(a []step, _, _ string) (step, error) {
	if lit, ok := a[0].(literalStep); ok && len(lit) == 1 {
		if pat, ok := lit[0].Value.(string); ok {
			re, err := regexp.Compile(pat)
			if err != nil {
				return nil, err
			}
			return matchesStep{re: re}, nil
		}
	}
	return matchesStep{arg: a[0]}, nil
}

func (s matchesStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	str, ok, err := singleString(in, "matches")
	if err != nil || !ok {
		return nil, err
	}
	re := s.re
	if re == nil {
		pat, ok, err := stringArg(c, s.arg, "matches")
		if err != nil || !ok {
			return nil, err
		}
		if re, err = regexp.Compile(pat); err != nil {
			return nil, fmt.Errorf("matches: %w", err)
		}
	}
	return boolResult(re.MatchString(str)), nil
}

// stringArgStep is startsWith, endsWith, contains and indexOf: a string
// input and one string argument.
type stringArgStep struct {
	op  string
	arg step
}

func (s stringArgStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	str, ok, err := singleString(in, s.op)
	if err != nil || !ok {
		return nil, err
	}
	a, ok, err := stringArg(c, s.arg, s.op)
	if err != nil || !ok {
		return nil, err
	}
	switch s.op {
	case "startsWith":
		return boolResult(strings.HasPrefix(str, a)), nil
	case "endsWith":
		return boolResult(strings.HasSuffix(str, a)), nil
	case "contains":
		return boolResult(strings.Contains(str, a)), nil
	}
	i := strings.Index(str, a)
	if i > 0 {
		i = utf8.RuneCountInString(str[:i])
	}
	return intResult(i), nil
}

// stringStep is length(), upper() and lower().
type stringStep struct{ op string }

func (s stringStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	str, ok, err := singleString(in, s.op)
	if err != nil || !ok {
		return nil, err
	}
	switch s.op {
	case "length":
		return intResult(utf8.RuneCountInString(str)), nil
	case "upper":
		return []Node{{Value: strings.ToUpper(str), Type: "string"}}, nil
	}
	return []Node{{Value: strings.ToLower(str), Type: "string"}}, nil
}

// substringStep is substring(start[, length]) in characters: empty when
// start is outside the string; length is cut at the end.
type substringStep struct{ start, length step }

func (s substringStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	str, ok, err := singleString(in, "substring")
	if err != nil || !ok {
		return nil, err
	}
	start, ok, err := argInteger(c, s.start, "substring")
	if err != nil || !ok {
		return nil, err
	}
	runes := []rune(str)
	if start < 0 || start >= len(runes) {
		return nil, nil
	}
	end := len(runes)
	if s.length != nil {
		n, ok, err := argInteger(c, s.length, "substring")
		if err != nil {
			return nil, err
		}
		if ok {
			end = min(start+max(n, 0), len(runes))
		}
	}
	return []Node{{Value: string(runes[start:end]), Type: "string"}}, nil
}

func intResult(i int) []Node {
	return []Node{{Value: json.Number(strconv.Itoa(i)), Type: "integer"}}
}
