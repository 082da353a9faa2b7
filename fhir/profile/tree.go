package profile

import (
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir/fhirpath"
)

// profile is one StructureDefinition, compiled.
type profile struct {
	url, version, name string
	typ                string // the resource or data type it constrains
	root               *node
	diffKeys           map[string]bool // constraint keys its differential defines
	rawConstraints     []*node         // nodes whose constraints are compiled after all resources load
}

// node is one element of a snapshot with its child elements and slices.
type node struct {
	def      *elementDef
	children []*node
	slices   []*node
	ref      *node // contentReference target: its children stand for ours

	invariants     []invariant
	discriminators []*fhirpath.Expr // compiled slicing discriminator paths
	typeProfile    *profile         // the one type profile in the Set, if any
	targets        map[string]bool  // allowed Reference target types; nil = unchecked
}

// kids are the node's child elements (a contentReference's target's).
func (n *node) kids() []*node {
	if n.ref != nil {
		return n.ref.children
	}
	return n.children
}

// buildTree arranges snapshot elements by id: "A.b" is a child of "A",
// "A.b:s" a slice of "A.b", "A.b:s.c" a child of that slice. Re-slices
// ("A.b:s/t") and everything under them are left out.
func buildTree(elems []*elementDef) (*node, error) {
	if len(elems) == 0 {
		return nil, fmt.Errorf("snapshot has no elements")
	}
	byID := make(map[string]*node, len(elems))
	skipped := map[string]bool{}
	var root *node
	for _, d := range elems {
		id := d.id
		if id == "" {
			id = d.path
			if d.sliceName != "" {
				id += ":" + d.sliceName
			}
		}
		n := &node{def: d}
		if root == nil {
			if strings.Contains(id, ".") {
				return nil, fmt.Errorf("first element %q is not the root", id)
			}
			root = n
			byID[id] = n
			continue
		}
		dot := strings.LastIndexByte(id, '.')
		if dot < 0 {
			return nil, fmt.Errorf("element %q is a second root", id)
		}
		last := id[dot+1:]
		parentID := id[:dot]
		if strings.Contains(d.sliceName, "/") || skipped[parentID] {
			skipped[id] = true
			continue
		}
		if d.sliceName != "" && strings.HasSuffix(last, ":"+d.sliceName) {
			slicedID := id[:len(id)-len(d.sliceName)-1]
			sliced, ok := byID[slicedID]
			if !ok {
				return nil, fmt.Errorf("slice %q: element %q is not in the snapshot before it", id, slicedID)
			}
			sliced.slices = append(sliced.slices, n)
		} else {
			parent, ok := byID[parentID]
			if !ok {
				return nil, fmt.Errorf("element %q: parent %q is not in the snapshot before it", id, parentID)
			}
			parent.children = append(parent.children, n)
		}
		byID[id] = n
	}
	// contentReference "#Questionnaire.item" (R4) or "...#Questionnaire.item".
	for _, n := range byID {
		if cr := n.def.contentReference; cr != "" {
			target := byID[cr[strings.IndexByte(cr, '#')+1:]]
			if target == nil {
				return nil, fmt.Errorf("element %s: contentReference %s is not in the snapshot", n.def.path, cr)
			}
			n.ref = target
		}
	}
	return root, nil
}

// eachNode visits every node of the tree once.
func eachNode(n *node, f func(*node) error) error {
	if err := f(n); err != nil {
		return err
	}
	for _, c := range n.children {
		if err := eachNode(c, f); err != nil {
			return err
		}
	}
	for _, s := range n.slices {
		if err := eachNode(s, f); err != nil {
			return err
		}
	}
	return nil
}
