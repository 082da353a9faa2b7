package search

import (
	"fmt"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// Composite indexing: for each value the composite's expression selects
// (an Observation, an Observation.component, a useContext), every
// component's expression is evaluated relative to it and read with the
// component parameter's type (found by its Definition URL). Each
// combination of one entry per component becomes one Entry{Kind: Composite}
// whose Parts are those entries, in component order, each with the
// component parameter's Code and Kind. A value for which some component
// yields nothing gives no composite entry (it could match no search); the
// combinations of one value are capped at maxCompositeEntries. A composite whose
// component is unknown to the registry, is itself composite, or has no
// compiled expression (Registry.ComponentExpr) is not indexed.
func (ix *Indexer) compositeEntries(dst []Entry, resource map[string]any, p *Param, n fhirpath.Node) ([]Entry, error) {
	if len(p.Components) == 0 {
		return dst, nil
	}
	parts := make([][]Entry, len(p.Components))
	for i, c := range p.Components {
		cp, ok := ix.reg.ByURL(c.Definition)
		if !ok || cp.Type == Composite || cp.Type == Special {
			return dst, nil
		}
		expr := ix.reg.ComponentExpr(p, i)
		if expr == nil {
			return dst, nil
		}
		nodes, err := expr.EvalFrom(resource, n)
		if err != nil {
			return dst, fmt.Errorf("component %s: %w", cp.Code, err)
		}
		var es []Entry
		for _, cn := range nodes {
			es = ix.extract(es, cp, cn)
		}
		if len(es) == 0 {
			return dst, nil
		}
		parts[i] = sortIndexEntries(es)
	}
	// The cartesian product, odometer style.
	idx := make([]int, len(parts))
	for count := 0; count < maxCompositeEntries; count++ {
		e := Entry{Param: p.Code, Kind: Composite, Parts: make([]Entry, len(parts))}
		for i, k := range idx {
			e.Parts[i] = parts[i][k]
		}
		dst = append(dst, e)
		i := len(idx) - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < len(parts[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	return dst, nil
}
