package profile

import (
	"fmt"
	"strings"

	"github.com/telederm/telederm/fhir"
	"github.com/telederm/telederm/fhir/fhirpath"
)

// invariant is one compiled constraint of severity error.
type invariant struct {
	key, human string
	expr       *fhirpath.Expr
	own        bool // defined by a profile in the Set: evaluation errors are reported
}

// compileInvariants compiles n's error constraints. A base-spec one that
// does not compile is dropped; one the Set's own profiles define must
// compile.
func (s *Set) compileInvariants(p *profile, n *node) error {
	for _, c := range n.def.constraints {
		if c.severity != "error" || c.expression == "" {
			continue
		}
		own := s.ownConstraint(p, c)
		e, err := fhirpath.Compile(c.expression)
		if err != nil {
			if own {
				return fmt.Errorf("element %s: constraint %s: %w", n.def.path, c.key, err)
			}
			continue
		}
		n.invariants = append(n.invariants, invariant{key: c.key, human: c.human, expr: e, own: own})
	}
	return nil
}

// ownConstraint reports whether a constraint comes from a profile in the
// Set rather than the base specification: by its source when it has one,
// else by its key appearing in the profile's differential. Nothing in a
// definition published under http://hl7.org/fhir/ is the Set's own.
func (s *Set) ownConstraint(p *profile, c constraintDef) bool {
	if strings.HasPrefix(p.url, "http://hl7.org/fhir/") {
		return false // the base specification's own definitions
	}
	if c.source != "" {
		_, inSet := s.lookup(c.source)
		return inSet && !strings.HasPrefix(c.source, "http://hl7.org/fhir/")
	}
	return p.diffKeys[c.key]
}

// checkInvariants evaluates n's invariants with the value as focus. Only
// a false result is a violation.
func (w *walker) checkInvariants(n *node, it item) {
	if len(n.invariants) == 0 {
		return
	}
	focus := fhirpath.Node{Value: it.value, Type: it.typ, Name: it.key}
	for _, inv := range n.invariants {
		got, err := inv.expr.EvalFrom(w.root, focus)
		if err != nil {
			if inv.own {
				w.report(fhir.CodeInvariant, fmt.Sprintf("%s: could not be evaluated: %v", inv.key, err), it.path)
			}
			continue
		}
		if isFalse(got) {
			w.report(fhir.CodeInvariant, inv.key+": "+inv.human, it.path)
		}
	}
}

func isFalse(nodes []fhirpath.Node) bool {
	for _, n := range nodes {
		if b, ok := n.Value.(bool); ok && !b {
			return true
		}
	}
	return false
}
