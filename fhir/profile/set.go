package profile

import (
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir/jsontree"
)

// Set is a set of conformance resources: StructureDefinitions (with
// snapshots), ValueSets and CodeSystems. It is read-only after Load and
// safe for concurrent use.
type Set struct {
	profiles    map[string]*profile
	valueSets   map[string]*expansion
	codeSystems map[string]*codeSystem
}

// Load reads conformance resources, each one JSON resource. Errors name the
// bad resource (its position, and its url when it has one).
func Load(resources ...[]byte) (*Set, error) {
	s := &Set{
		profiles:    map[string]*profile{},
		valueSets:   map[string]*expansion{},
		codeSystems: map[string]*codeSystem{},
	}
	var valueSets []map[string]any
	for i, raw := range resources {
		m, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("profile: resource %d: %w", i, err)
		}
		name := fmt.Sprintf("resource %d (%s %s)", i, str(m["resourceType"]), firstNonEmpty(str(m["url"]), str(m["id"])))
		switch str(m["resourceType"]) {
		case "StructureDefinition":
			p, err := parseProfile(m)
			if err != nil {
				return nil, fmt.Errorf("profile: %s: %w", name, err)
			}
			s.profiles[p.url] = p
		case "ValueSet":
			if str(m["url"]) == "" {
				return nil, fmt.Errorf("profile: %s: ValueSet has no url", name)
			}
			valueSets = append(valueSets, m)
		case "CodeSystem":
			cs, err := parseCodeSystem(m)
			if err != nil {
				return nil, fmt.Errorf("profile: %s: %w", name, err)
			}
			s.codeSystems[cs.url] = cs
		default:
			return nil, fmt.Errorf("profile: %s: not a StructureDefinition, ValueSet or CodeSystem", name)
		}
	}
	s.expandValueSets(valueSets)
	for _, p := range s.profiles {
		if err := s.link(p); err != nil {
			return nil, fmt.Errorf("profile: StructureDefinition %s: %w", p.url, err)
		}
	}
	return s, nil
}

func decode(raw []byte) (map[string]any, error) {
	m, err := jsontree.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("not a JSON resource: %w", err)
	}
	return m, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseProfile reads a StructureDefinition and builds its element tree.
func parseProfile(m map[string]any) (*profile, error) {
	p := &profile{
		url: str(m["url"]), version: str(m["version"]), name: str(m["name"]),
		typ: str(m["type"]), diffKeys: map[string]bool{},
	}
	if p.url == "" {
		return nil, fmt.Errorf("no url")
	}
	if p.typ == "" {
		return nil, fmt.Errorf("no type")
	}
	snap, _ := m["snapshot"].(map[string]any)
	if len(list(snap["element"])) == 0 {
		return nil, fmt.Errorf("no snapshot (generate it before loading)")
	}
	var elems []*elementDef
	for _, e := range list(snap["element"]) {
		em, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("snapshot element is not an object")
		}
		d, err := parseElement(em)
		if err != nil {
			return nil, err
		}
		elems = append(elems, d)
	}
	root, err := buildTree(elems)
	if err != nil {
		return nil, err
	}
	p.root = root
	if diff, ok := m["differential"].(map[string]any); ok {
		for _, e := range list(diff["element"]) {
			em, _ := e.(map[string]any)
			for _, c := range list(em["constraint"]) {
				cm, _ := c.(map[string]any)
				p.diffKeys[str(cm["key"])] = true
			}
		}
	}
	return p, nil
}

// link compiles what needs the whole Set: invariants (whose origin
// decides whether a compile failure is an error), slicing discriminators,
// type profiles and Reference targets.
func (s *Set) link(p *profile) error {
	return eachNode(p.root, func(n *node) error {
		if err := s.compileInvariants(p, n); err != nil {
			return err
		}
		if err := compileDiscriminators(n); err != nil {
			return err
		}
		s.linkTypes(n)
		return nil
	})
}

// lookup finds a profile by url, with or without "|version".
func (s *Set) lookup(url string) (*profile, bool) {
	base, version, hasVersion := strings.Cut(url, "|")
	p, ok := s.profiles[base]
	if !ok || hasVersion && p.version != "" && p.version != version {
		return nil, false
	}
	return p, true
}

// Knows reports whether the Set has a StructureDefinition with this url
// ("url|version" accepted: the version must match when the profile has one).
func (s *Set) Knows(url string) bool {
	_, ok := s.lookup(url)
	return ok
}
