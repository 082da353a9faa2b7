package fhirpath

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// arithStep is "+", "-", "*", "/", "div", "mod" on numbers, and "+" and
// "&" on strings. Empty on either side gives empty, except "&", which
// treats empty as the empty string. Decimal arithmetic is exact (math/big.Rat).
type arithStep struct {
	l, r step
	op   string
}

func (s arithStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, r, err := evalPair(c, s.l, s.r, in, s.op)
	if err != nil {
		return nil, err
	}
	if s.op == "&" {
		return []Node{{Value: concatText(l) + concatText(r), Type: "string"}}, nil
	}
	if l == nil || r == nil {
		return nil, nil
	}
	if a, ok := l.Value.(string); ok && s.op == "+" {
		if b, ok := r.Value.(string); ok {
			return []Node{{Value: a + b, Type: "string"}}, nil
		}
	}
	ints := isIntegerNode(*l) && isIntegerNode(*r)
	if ints && s.op != "/" {
		if out, ok := intArith(s.op, *l, *r); ok {
			return out, nil
		}
	}
	a, okA := ratOf(l.Value)
	b, okB := ratOf(r.Value)
	if !okA || !okB {
		return nil, fmt.Errorf("operator %s: cannot apply to %s and %s", s.op, kindOf(*l), kindOf(*r))
	}
	scale := max(decimalScale(l.Value), decimalScale(r.Value))
	var out big.Rat
	switch s.op {
	case "+":
		out.Add(a, b)
	case "-":
		out.Sub(a, b)
	case "*":
		out.Mul(a, b)
		scale = decimalScale(l.Value) + decimalScale(r.Value)
	case "/":
		if b.Sign() == 0 {
			return nil, nil
		}
		out.Quo(a, b)
		return []Node{{Value: json.Number(trimDecimal(out.FloatString(8))), Type: "decimal"}}, nil
	case "div", "mod":
		if b.Sign() == 0 {
			return nil, nil
		}
		q := truncQuo(a, b)
		if s.op == "div" {
			return []Node{{Value: json.Number(q.String()), Type: "integer"}}, nil
		}
		out.Sub(a, new(big.Rat).Mul(b, new(big.Rat).SetInt(q)))
	}
	if ints {
		return []Node{{Value: json.Number(out.Num().String()), Type: "integer"}}, nil
	}
	return []Node{{Value: json.Number(out.FloatString(scale)), Type: "decimal"}}, nil
}

// intArith is integer arithmetic in int64, the common case (scores, check
// digits) without big.Rat's allocations; ok is false when an operand does
// not fit or the result would overflow, and big.Rat takes over.
func intArith(op string, l, r Node) ([]Node, bool) {
	x, okX := int64Of(l.Value)
	y, okY := int64Of(r.Value)
	if !okX || !okY {
		return nil, false
	}
	var z int64
	switch op {
	case "+":
		z = x + y
		if (z > x) != (y > 0) {
			return nil, false
		}
	case "-":
		z = x - y
		if (z < x) != (y > 0) {
			return nil, false
		}
	case "*":
		if x != 0 && y != 0 {
			z = x * y
			if z/y != x || x == -1 && y == math.MinInt64 || y == -1 && x == math.MinInt64 {
				return nil, false
			}
		}
	case "div", "mod":
		if y == 0 {
			return nil, true
		}
		if x == math.MinInt64 && y == -1 {
			return nil, false
		}
		if op == "div" {
			z = x / y
		} else {
			z = x % y
		}
	default:
		return nil, false
	}
	return []Node{{Value: json.Number(strconv.FormatInt(z, 10)), Type: "integer"}}, true
}

// int64Of reads an integer-valued number that fits in int64.
func int64Of(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		return i, err == nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), true
		}
	}
	return 0, false
}

// concatText is an operand of "&": its text, or "" when empty.
func concatText(n *Node) string {
	if n == nil {
		return ""
	}
	if s, ok := n.Value.(string); ok {
		return s
	}
	if s, ok := toText(n.Value); ok {
		return s
	}
	return ""
}

// truncQuo is a/b truncated toward zero.
func truncQuo(a, b *big.Rat) *big.Int {
	num := new(big.Int).Mul(a.Num(), b.Denom())
	den := new(big.Int).Mul(a.Denom(), b.Num())
	return num.Quo(num, den)
}

// negStep is unary minus on a number.
type negStep struct{ x step }

func (s negStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	x, err := s.x.eval(c, in)
	if err != nil || len(x) == 0 {
		return nil, err
	}
	if len(x) > 1 {
		return nil, fmt.Errorf("unary -: %w, got %d", errSingleton, len(x))
	}
	n, ok := x[0].Value.(json.Number)
	if !ok {
		r, okR := ratOf(x[0].Value)
		if !okR {
			return nil, fmt.Errorf("unary -: cannot negate %s", kindOf(x[0]))
		}
		n = json.Number(r.FloatString(decimalScale(x[0].Value)))
	}
	typ := x[0].Type
	if typ == "" {
		typ = "decimal"
		if isIntegerNode(x[0]) {
			typ = "integer"
		}
	}
	return []Node{{Value: negateNumber(n), Type: typ}}, nil
}

// negateNumber flips the sign of a number's text.
func negateNumber(n json.Number) json.Number {
	s := string(n)
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return json.Number(rest)
	}
	return json.Number("-" + strings.TrimPrefix(s, "+"))
}

// ratOf reads a number exactly.
func ratOf(v any) (*big.Rat, bool) {
	switch x := v.(type) {
	case json.Number:
		return new(big.Rat).SetString(string(x))
	case float64:
		return new(big.Rat).SetFloat64(x), true
	}
	return nil, false
}

// isIntegerNode reports whether a number is an integer: by its type when
// known, else by having no fraction or exponent in its text.
func isIntegerNode(n Node) bool {
	switch n.Type {
	case "integer", "positiveInt", "unsignedInt":
		return true
	case "decimal":
		return false
	}
	switch x := n.Value.(type) {
	case json.Number:
		return !strings.ContainsAny(string(x), ".eE")
	case float64:
		return x == float64(int64(x))
	}
	return false
}

// decimalScale is the number of digits after the point in a number's text.
func decimalScale(v any) int {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	s := string(n)
	if strings.ContainsAny(s, "eE") {
		return 8
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// trimDecimal drops trailing zeros after the point (and a bare point).
func trimDecimal(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
