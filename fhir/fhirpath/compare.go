package fhirpath

import (
	"fmt"
	"strings"
	"time"
)

// compareStep is "<", ">", "<=" or ">=": empty when either side is empty
// or when two dates of different precision agree as far as both go.
type compareStep struct {
	l, r step
	op   string
}

func (s compareStep) eval(c *evalCtx, in []Node) ([]Node, error) {
	l, r, err := evalPair(c, s.l, s.r, in, s.op)
	if err != nil || l == nil || r == nil {
		return nil, err
	}
	cmp, ok, err := compareNodes(*l, *r)
	if err != nil || !ok {
		return nil, err
	}
	switch s.op {
	case "<":
		return boolResult(cmp < 0), nil
	case ">":
		return boolResult(cmp > 0), nil
	case "<=":
		return boolResult(cmp <= 0), nil
	}
	return boolResult(cmp >= 0), nil
}

// evalPair evaluates both operands of a binary operator; each must hold at
// most one item. A nil result means that side is empty.
func evalPair(c *evalCtx, ls, rs step, in []Node, op string) (*Node, *Node, error) {
	l, err := ls.eval(c, in)
	if err != nil {
		return nil, nil, err
	}
	r, err := rs.eval(c, in)
	if err != nil {
		return nil, nil, err
	}
	if len(l) > 1 || len(r) > 1 {
		return nil, nil, fmt.Errorf("operator %s: %w, got %d and %d", op, errSingleton, len(l), len(r))
	}
	var lp, rp *Node
	if len(l) == 1 {
		lp = &l[0]
	}
	if len(r) == 1 {
		rp = &r[0]
	}
	return lp, rp, nil
}

// compareNodes orders two values: numbers by value, dates and times by
// time (ok is false when their precisions make the order unknown), other
// strings by their text, and Quantities of the same unit by value.
func compareNodes(l, r Node) (cmp int, ok bool, err error) {
	if a, okA := int64Of(l.Value); okA {
		if b, okB := int64Of(r.Value); okB {
			return cmpInt(a, b), true, nil
		}
	}
	if a, okA := ratOf(l.Value); okA {
		if b, okB := ratOf(r.Value); okB {
			return a.Cmp(b), true, nil
		}
	}
	if a, okA := l.Value.(string); okA {
		if b, okB := r.Value.(string); okB {
			if comparesAsDates(l, r, a, b) {
				cmp, ok := compareDates(a, b)
				return cmp, ok, nil
			}
			return strings.Compare(a, b), true, nil
		}
	}
	if a, okA := l.Value.(map[string]any); okA {
		if b, okB := r.Value.(map[string]any); okB {
			return compareQuantities(a, b)
		}
	}
	return 0, false, fmt.Errorf("cannot compare %s with %s", kindOf(l), kindOf(r))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareQuantities(a, b map[string]any) (int, bool, error) {
	va, okA := ratOf(a["value"])
	vb, okB := ratOf(b["value"])
	if !okA || !okB {
		return 0, false, fmt.Errorf("cannot compare objects that are not Quantities")
	}
	unit := func(m map[string]any) any {
		if c, ok := m["code"]; ok {
			return c
		}
		return m["unit"]
	}
	if !jsonEqual(unit(a), unit(b)) {
		return 0, false, nil // different units: FHIRPath gives empty without conversion
	}
	return va.Cmp(vb), true, nil
}

func isDateType(t string) bool {
	switch t {
	case "date", "dateTime", "instant", "time":
		return true
	}
	return false
}

// comparesAsDates decides whether two strings are compared as dates: when
// either is typed as a date or time, or when neither is typed, and both
// have the form of one.
func comparesAsDates(l, r Node, a, b string) bool {
	if !isDateType(l.Type) && !isDateType(r.Type) && (l.Type != "" || r.Type != "") {
		return false
	}
	return looksTemporal(a) && looksTemporal(b)
}

func looksTemporal(s string) bool { return isDateTime(s, false) || isTime(s) }

// compareDates compares two dates, dateTimes or times. Instants (both with
// a time and a zone) compare as points in time; otherwise the zone is set
// aside and the texts compare as far as both go: a difference there
// decides, and agreement with different precisions is unknown.
func compareDates(a, b string) (int, bool) {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA == nil && errB == nil {
		return ta.Compare(tb), true
	}
	a, b = stripZone(a), stripZone(b)
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c, true
	}
	return 0, len(a) == len(b)
}

// stripZone removes a trailing Z or ±hh:mm from a dateTime.
func stripZone(s string) string {
	t := strings.IndexByte(s, 'T')
	if t < 0 {
		return s
	}
	if strings.HasSuffix(s, "Z") {
		return s[:len(s)-1]
	}
	if i := strings.LastIndexAny(s, "+-"); i > t {
		return s[:i]
	}
	return s
}

func kindOf(n Node) string {
	if n.Type != "" {
		return n.Type
	}
	switch n.Value.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	}
	return "number"
}
