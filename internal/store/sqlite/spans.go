package sqlite

import "sync"

// spanCache remembers, for each date parameter of a type, a span that
// idx_date_span is known to hold at least, so that a commit runs the
// widening statement only for entries wider than that: almost every entry
// of a parameter has the span its siblings had (a day for a birthDate), and
// the statement was one more execution per date parameter of every write,
// in the single writer. Spans are learnt only after their commit succeeds,
// so a widening that was rolled back is never taken as done; and the table
// only grows, so what was learnt stays true.
type spanCache struct {
	mu    sync.Mutex
	known map[spanKey]int64
}

type spanKey struct{ typ, param string }

// unknown returns the spans of a change of type typ that are wider than
// what is known (spans itself when all are).
func (c *spanCache) unknown(typ string, spans []paramSpan) []paramSpan {
	if len(spans) == 0 {
		return spans
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []paramSpan
	for i, sp := range spans {
		if known, ok := c.known[spanKey{typ, sp.param}]; ok && sp.span <= known {
			if out == nil {
				out = append(make([]paramSpan, 0, len(spans)), spans[:i]...)
			}
			continue
		}
		if out != nil {
			out = append(out, sp)
		}
	}
	if out == nil {
		return spans
	}
	return out
}

// learn records spans that a committed transaction wrote (or found
// already covered) for type typ.
func (c *spanCache) learn(typ string, spans []paramSpan) {
	if len(spans) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		c.known = map[spanKey]int64{}
	}
	for _, sp := range spans {
		k := spanKey{typ, sp.param}
		if have, ok := c.known[k]; !ok || sp.span > have {
			c.known[k] = sp.span
		}
	}
}
