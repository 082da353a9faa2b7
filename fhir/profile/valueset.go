package profile

import (
	"fmt"
	"strings"
)

// codeSystem is a CodeSystem's codes (nested concepts flattened).
type codeSystem struct {
	url   string
	codes []string
}

func parseCodeSystem(m map[string]any) (*codeSystem, error) {
	cs := &codeSystem{url: str(m["url"])}
	if cs.url == "" {
		return nil, fmt.Errorf("CodeSystem has no url")
	}
	var walk func(concepts []any)
	walk = func(concepts []any) {
		for _, c := range concepts {
			cm, _ := c.(map[string]any)
			if code := str(cm["code"]); code != "" {
				cs.codes = append(cs.codes, code)
			}
			walk(list(cm["concept"]))
		}
	}
	walk(list(m["concept"]))
	return cs, nil
}

// expansion is what a ValueSet contains: listed codes per system, and
// systems all of whose codes count (a whole CodeSystem not in the Set, or
// one included through a filter, which is not evaluated).
type expansion struct {
	codes     map[string]map[string]bool // system -> code
	wholeOf   map[string]bool            // systems any code of which is in
	anyCodeIn map[string]bool            // code -> in some system (for bare codes)
}

func newExpansion() *expansion {
	return &expansion{codes: map[string]map[string]bool{}, wholeOf: map[string]bool{}, anyCodeIn: map[string]bool{}}
}

func (e *expansion) add(system, code string) {
	if e.codes[system] == nil {
		e.codes[system] = map[string]bool{}
	}
	e.codes[system][code] = true
	e.anyCodeIn[code] = true
}

// reindex rebuilds anyCodeIn after codes were removed.
func (e *expansion) reindex() {
	e.anyCodeIn = map[string]bool{}
	for _, codes := range e.codes {
		for c := range codes {
			e.anyCodeIn[c] = true
		}
	}
}

func (e *expansion) contains(system, code string) bool {
	if system == "" {
		return e.anyCodeIn[code] || len(e.wholeOf) > 0
	}
	return e.wholeOf[system] || e.codes[system][code]
}

// expandValueSets expands every ValueSet, following included ValueSets
// (cycles are cut).
func (s *Set) expandValueSets(raw []map[string]any) {
	byURL := map[string]map[string]any{}
	for _, m := range raw {
		byURL[str(m["url"])] = m
	}
	var expand func(url string, seen map[string]bool) *expansion
	expand = func(url string, seen map[string]bool) *expansion {
		if e, ok := s.valueSets[url]; ok {
			return e
		}
		m, ok := byURL[url]
		if !ok || seen[url] {
			return nil
		}
		seen[url] = true
		e := newExpansion()
		compose, _ := m["compose"].(map[string]any)
		for _, inc := range list(compose["include"]) {
			s.include(e, inc.(map[string]any), func(u string) *expansion { return expand(u, seen) })
		}
		for _, exc := range list(compose["exclude"]) {
			xm, _ := exc.(map[string]any)
			for _, c := range list(xm["concept"]) {
				cm, _ := c.(map[string]any)
				delete(e.codes[str(xm["system"])], str(cm["code"]))
			}
			e.reindex()
		}
		if exp, ok := m["expansion"].(map[string]any); ok {
			addContains(e, list(exp["contains"]))
		}
		s.valueSets[url] = e
		return e
	}
	for url := range byURL {
		expand(url, map[string]bool{})
	}
}

// include adds one compose.include: its concept list, else the whole
// CodeSystem (every code of it when the CodeSystem is not in the Set or the
// include filters it), plus any included ValueSets.
func (s *Set) include(e *expansion, inc map[string]any, expand func(string) *expansion) {
	system := str(inc["system"])
	for _, vs := range strs(inc["valueSet"]) {
		if sub := expand(strings.SplitN(vs, "|", 2)[0]); sub != nil {
			for sys, codes := range sub.codes {
				for c := range codes {
					e.add(sys, c)
				}
			}
			for sys := range sub.wholeOf {
				e.wholeOf[sys] = true
			}
		}
	}
	if system == "" {
		return
	}
	concepts := list(inc["concept"])
	cs, known := s.codeSystems[system]
	switch {
	case len(concepts) > 0:
		for _, c := range concepts {
			cm, _ := c.(map[string]any)
			e.add(system, str(cm["code"]))
		}
	case known && len(list(inc["filter"])) == 0 && len(cs.codes) > 0:
		for _, c := range cs.codes {
			e.add(system, c)
		}
	default:
		e.wholeOf[system] = true
	}
}

func addContains(e *expansion, contains []any) {
	for _, c := range contains {
		cm, _ := c.(map[string]any)
		if code := str(cm["code"]); code != "" {
			e.add(str(cm["system"]), code)
		}
		addContains(e, list(cm["contains"]))
	}
}

// ValueSetContains reports whether the Set has the ValueSet (known; a
// "|version" suffix is ignored) and whether it contains the code (ok). An
// empty system matches the code in any system of the ValueSet.
func (s *Set) ValueSetContains(url, system, code string) (known, ok bool) {
	e, known := s.valueSets[strings.SplitN(url, "|", 2)[0]]
	if !known {
		return false, false
	}
	return true, e.contains(system, code)
}
