package fhirpath

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

var (
	integerText = regexp.MustCompile(`^[+-]?[0-9]+$`)
	decimalText = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)
)

// convertStep is toInteger(), toDecimal() and toString(): empty when the
// single input item does not convert.
type convertStep struct{ to string }

func (s convertStep) eval(_ *evalCtx, in []Node) ([]Node, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > 1 {
		return nil, fmt.Errorf("to%s: %w, got %d", s.to, errSingleton, len(in))
	}
	n := in[0]
	switch s.to {
	case "string":
		if t, ok := toText(n.Value); ok {
			return []Node{{Value: t, Type: "string"}}, nil
		}
	case "integer":
		switch v := n.Value.(type) {
		case bool:
			return intResult(map[bool]int{false: 0, true: 1}[v]), nil
		case string:
			if integerText.MatchString(v) {
				return []Node{{Value: json.Number(strings.TrimPrefix(v, "+")), Type: "integer"}}, nil
			}
		default:
			if isIntegerNode(n) {
				t, _ := toText(v)
				return []Node{{Value: json.Number(t), Type: "integer"}}, nil
			}
		}
	case "decimal":
		switch v := n.Value.(type) {
		case bool:
			return []Node{{Value: json.Number(map[bool]string{false: "0.0", true: "1.0"}[v]), Type: "decimal"}}, nil
		case string:
			if decimalText.MatchString(v) {
				return []Node{{Value: json.Number(strings.TrimPrefix(v, "+")), Type: "decimal"}}, nil
			}
		default:
			if t, ok := toText(v); ok {
				return []Node{{Value: json.Number(t), Type: "decimal"}}, nil
			}
		}
	}
	return nil, nil
}

// toText is a primitive's text: strings as they are, numbers as written,
// booleans as true/false. Objects have none.
func toText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case float64:
		return fmt.Sprint(x), true
	}
	return "", false
}

// dateLiteral is the node of a @date, @dateTime or @Ttime literal (text
// without the @).
func dateLiteral(text string) Node {
	if t, ok := strings.CutPrefix(text, "T"); ok {
		return Node{Value: t, Type: "time"}
	}
	if strings.Contains(text, "T") {
		return Node{Value: text, Type: "dateTime"}
	}
	return Node{Value: text, Type: "date"}
}
